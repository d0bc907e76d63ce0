{{/* The release's full name: every object's name, the ServiceAccount's and the Roles'. */}}
{{- define "dockyard.fullname" -}}
{{- if contains "dockyard" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-dockyard" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "dockyard.serviceAccountName" -}}
{{- default (include "dockyard.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "dockyard.labels" -}}
app.kubernetes.io/name: dockyard
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: dockyard
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "dockyard.selector" -}}
app.kubernetes.io/name: dockyard
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .process }}
{{- end -}}

{{/* The catalog's namespaces as a JSON list: the value, else every environment's namespace in rules.catalog. */}}
{{- define "dockyard.catalogNamespaces" -}}
{{- $namespaces := list -}}
{{- if .Values.rbac.catalogNamespaces -}}
{{- $namespaces = .Values.rbac.catalogNamespaces -}}
{{- else if .Values.rules.catalog -}}
{{- $catalog := fromYaml .Values.rules.catalog -}}
{{- if hasKey $catalog "Error" -}}
{{- fail (printf "rules.catalog is not valid YAML: %s" $catalog.Error) -}}
{{- end -}}
{{- range $service := $catalog.services -}}
{{- range $env := $service.environments -}}
{{- $namespaces = append $namespaces $env.namespace -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if not $namespaces -}}
{{- fail "no catalog namespaces: set rules.catalog (helm --set-file rules.catalog=rules/catalog.yaml) or rbac.catalogNamespaces" -}}
{{- end -}}
{{- $namespaces | uniq | sortAlpha | toJson -}}
{{- end -}}
