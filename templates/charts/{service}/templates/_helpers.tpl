{{/*
Name of the chart, truncated to the 63 characters of a DNS label.
*/}}
{{- define "service.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified name: the release name when it already holds the chart name
(the usual `helm upgrade --install <service> charts/<service>`).
*/}}
{{- define "service.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
Labels every object carries.
*/}}
{{- define "service.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "service.podSelector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.environment }}
app.kubernetes.io/environment: {{ . | quote }}
{{- end }}
{{- end }}

{{/*
Labels of every pod of the release: the server's and, for the service that
owns the database migrations, the migration Job's. The NetworkPolicy selects
these, so it covers both.
*/}}
{{- define "service.podSelector" -}}
app.kubernetes.io/name: {{ include "service.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of the server's pods only (Deployment, Service, HPA, PDB).
*/}}
{{- define "service.selectorLabels" -}}
{{ include "service.podSelector" . }}
app.kubernetes.io/component: server
{{- end }}

{{/*
The Secret the ExternalSecret writes: one key per `secretEnv` variable.
*/}}
{{- define "service.secretName" -}}
{{- printf "%s-env" (include "service.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The ECR registry of the environment: in its values file when the blueprint
names the environment's AWS account, else passed by the deploy.
*/}}
{{- define "service.registry" -}}
{{- required "image.registry is required: give the environment its account in platform.yaml (its values file then names the registry), or pass --set-string image.registry=<ECR registry host>" .Values.image.registry }}
{{- end }}

{{/*
The prefix of the environment's Secrets Manager secrets (`<platform>/<env>/`).
*/}}
{{- define "service.secretPrefix" -}}
{{- required "externalSecret.keyPrefix is required: use the values file of an environment (-f values-<env>.yaml)" .Values.externalSecret.keyPrefix }}
{{- end }}

{{/*
The image: the registry and repository come from the values files, the tag
(or digest) from the deploy, never `latest`.
*/}}
{{- define "service.image" -}}
{{- $registry := include "service.registry" . }}
{{- $repository := required "image.repository is required: use the values file of an environment (-f values-<env>.yaml)" .Values.image.repository }}
{{- if .Values.image.digest }}
{{- printf "%s/%s@%s" $registry $repository .Values.image.digest }}
{{- else }}
{{- $tag := required "image.tag is required: pass --set-string image.tag=<release tag>" .Values.image.tag }}
{{- if eq $tag "latest" }}
{{- fail "image.tag must name a release, not latest" }}
{{- end }}
{{- printf "%s/%s:%s" $registry $repository $tag }}
{{- end }}
{{- end }}

{{/*
The database's host, from the connection secret Terraform writes
(`<prefix>database`), as an ExternalSecret `data` entry.
*/}}
{{- define "service.databaseHost" -}}
- secretKey: db_host
  remoteRef:
    key: {{ printf "%s%s" (include "service.secretPrefix" .) .Values.database.connectionKey | quote }}
    property: host
{{- end }}

{{/*
The service's own database role (username and password of the secret
Terraform generates, `<prefix>database/<service>`) and the host, as
ExternalSecret `data` entries. Never the master user: only the migration hook
reads the master credentials.
*/}}
{{- define "service.databaseCredentials" -}}
{{- $key := printf "%s%s" (include "service.secretPrefix" .) (required "database.credentialsKey is required" .Values.database.credentialsKey) -}}
- secretKey: db_username
  remoteRef:
    key: {{ $key | quote }}
    property: username
- secretKey: db_password
  remoteRef:
    key: {{ $key | quote }}
    property: password
{{ include "service.databaseHost" . }}
{{- end }}

{{/*
DATABASE_URL as an External Secrets template (engine v2): the role, the
URL-escaped password and the host come from Secrets Manager, port and name
from the values. The inner braces are ESO's, kept literal for it.
*/}}
{{- define "service.databaseUrl" -}}
{{- printf "postgresql://%s:%s@%s:%v/%s?sslmode=require" `{{ .db_username }}` `{{ .db_password | urlquery }}` `{{ .db_host }}` .Values.database.port .Values.database.name }}
{{- end }}
