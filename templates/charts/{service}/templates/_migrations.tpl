{{/*
Helpers of the database migration hook. Only the chart of the service that
owns the migrations has this file and the migrations-*.yaml templates.
*/}}

{{/*
Name shared by the migration hook's objects (Job, ServiceAccount, ConfigMap,
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
The Flyway project the deploy copies into the chart: `db/flyway.toml` and
`db/migrations/*.sql`, as they are in the repository.
*/}}
{{- define "service.migrationFiles" -}}
{{- $files := .Files.Glob "db/migrations/*.sql" }}
{{- if not $files }}
{{- fail "db/migrations/*.sql is not in the chart: copy db/flyway.toml and db/migrations/*.sql into the chart's db/ folder before helm runs (the deploy workflow does)" }}
{{- end }}
{{- if not (.Files.Get "db/flyway.toml") }}
{{- fail "db/flyway.toml is not in the chart: copy it into the chart's db/ folder with the migrations before helm runs" }}
{{- end }}
{{- $size := len (.Files.Get "db/flyway.toml") }}
{{- range $path, $bytes := $files }}
{{- if not (regexMatch "^[-._a-zA-Z0-9]+$" (base $path)) }}
{{- fail (printf "%s: a migration file name may hold only letters, digits, '-', '_' and '.' (it becomes a ConfigMap key)" (base $path)) }}
{{- end }}
{{- $size = add $size (len $bytes) }}
{{- end }}
{{- if gt (int $size) 921600 }}
{{- fail (printf "the migrations take %d bytes; their ConfigMap holds at most 900 KiB: squash released migrations or ship them in an image" (int $size)) }}
{{- end }}
{{- range $path, $_ := $files }}
{{ base $path }}
{{- end }}
{{- end }}
