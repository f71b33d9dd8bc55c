{{/*
Helpers of the database migration hook. Only the chart of the service that
owns the migrations has this file and the migrations-*.yaml templates.
*/}}

{{/*
Name shared by the migration hook's objects (Job, ServiceAccount,
ExternalSecret and its Secret, NetworkPolicy).
*/}}
{{- define "service.migrationsName" -}}
{{- printf "%s-migrations" (include "service.fullname" . | trunc 52 | trimSuffix "-") }}
{{- end }}

{{/*
Labels of the migration hook's objects and of the Job's pods: the release's
pod labels, so the chart's NetworkPolicy covers them too.
*/}}
{{- define "service.migrationsLabels" -}}
{{ include "service.labels" . }}
app.kubernetes.io/component: migrations
{{- end }}

{{/*
Annotations of a migration hook object, given its weight. Helm runs the
pre-install and pre-upgrade hooks before the chart's ordinary objects, in
weight order, and waits for the Job: the objects the Job needs (weight -10)
come first, then the Job (weight 0). Hook objects are deleted once every hook
has succeeded, and before the next hook of the same name is created; a failed
Job stays for its logs until then (or until its TTL).
*/}}
{{- define "service.migrationsHook" -}}
helm.sh/hook: pre-install,pre-upgrade
helm.sh/hook-weight: {{ . | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- end }}

{{/*
The services' roles and passwords as the JSON list of the roles callback
(`[{"role": …, "password": …}]`), an External Secrets template: the passwords
are ESO's `role_<i>` keys, kept literal for it.
*/}}
{{- define "service.migrationsRolesJson" -}}
[
{{- range $i, $role := .Values.migrations.roles -}}
{{- if $i }},{{ end -}}
{"role":{{ $role.role | toJson }},"password":{{ printf "{{ .role_%d | toJson }}" $i }}}
{{- end -}}
]
{{- end }}

{{/*
The migrations image: db/ (flyway.toml and migrations/, nested folders
included) on top of the pinned Flyway image, built once per commit from
db/Dockerfile and promoted with the service images, so it sits next to them
in the environment's registry. Its digest when given, else the tag of the
service image: the deploy tags both alike.
*/}}
{{- define "service.migrationsImage" -}}
{{- $registry := include "service.registry" . }}
{{- $repository := required "migrations.image.repository is required: use the values file of an environment (-f values-<env>.yaml)" .Values.migrations.image.repository }}
{{- if .Values.migrations.image.digest }}
{{- printf "%s/%s@%s" $registry $repository .Values.migrations.image.digest }}
{{- else }}
{{- $tag := required "image.tag is required: pass --set-string image.tag=<release tag> (the migrations image has the same tag)" .Values.image.tag }}
{{- if eq $tag "latest" }}
{{- fail "image.tag must name a release, not latest" }}
{{- end }}
{{- printf "%s/%s:%s" $registry $repository $tag }}
{{- end }}
{{- end }}
