{{/* Names and labels of kube-prometheus-stack 88.x, reproduced for the stand-in. */}}

{{- define "kps.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 50 | trimSuffix "-" -}}
{{- end }}

{{/* Release name, or release-chart, cut at 26 characters as the real chart does. */}}
{{- define "kps.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 26 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 26 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 26 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end }}

{{- define "kps.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride -}}
{{- end }}

{{- define "kps.operator.fullname" -}}
{{- if .Values.prometheusOperator.fullnameOverride -}}
{{- .Values.prometheusOperator.fullnameOverride | trunc 35 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-operator" (include "kps.fullname" .) -}}
{{- end -}}
{{- end }}

{{- define "kps.prometheus.crname" -}}
{{- if .Values.cleanPrometheusOperatorObjectNames -}}
{{- include "kps.fullname" . -}}
{{- else -}}
{{- printf "%s-prometheus" (include "kps.fullname" .) -}}
{{- end -}}
{{- end }}

{{- define "kps.alertmanager.crname" -}}
{{- if .Values.cleanPrometheusOperatorObjectNames -}}
{{- include "kps.fullname" . -}}
{{- else -}}
{{- printf "%s-alertmanager" (include "kps.fullname" .) -}}
{{- end -}}
{{- end }}

{{- define "kps.labels" -}}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ replace "+" "_" .Chart.Version | quote }}
app.kubernetes.io/part-of: {{ include "kps.name" . }}
chart: {{ printf "%s-%s" .Chart.Name (replace "+" "_" .Chart.Version) }}
release: {{ .Release.Name | quote }}
heritage: {{ .Release.Service | quote }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "kps.operator.labels" -}}
{{ include "kps.labels" . }}
app: {{ include "kps.name" . }}-operator
app.kubernetes.io/name: {{ include "kps.name" . }}-prometheus-operator
app.kubernetes.io/component: prometheus-operator
{{- end }}

{{- define "kps.operator.serviceAccountName" -}}
{{- if .Values.prometheusOperator.serviceAccount.create -}}
{{- default (include "kps.operator.fullname" .) .Values.prometheusOperator.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.prometheusOperator.serviceAccount.name -}}
{{- end -}}
{{- end }}

{{- define "kps.prometheus.serviceAccountName" -}}
{{- if .Values.prometheus.serviceAccount.create -}}
{{- default (printf "%s-prometheus" (include "kps.fullname" .)) .Values.prometheus.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.prometheus.serviceAccount.name -}}
{{- end -}}
{{- end }}

{{- define "kps.alertmanager.serviceAccountName" -}}
{{- if .Values.alertmanager.serviceAccount.create -}}
{{- default (printf "%s-alertmanager" (include "kps.fullname" .)) .Values.alertmanager.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.alertmanager.serviceAccount.name -}}
{{- end -}}
{{- end }}

{{/* registry/repository[:tag][@sha256:sha], the global registry winning, as the real chart builds images. */}}
{{- define "kps.image" -}}
{{- $image := index . 0 -}}
{{- $root := index . 1 -}}
{{- $tag := index . 2 -}}
{{- $registry := $root.Values.global.imageRegistry | default $image.registry -}}
{{- $ref := printf "%s/%s" $registry $image.repository -}}
{{- if $tag }}{{ $ref = printf "%s:%s" $ref $tag }}{{ end -}}
{{- if $image.sha }}{{ $ref = printf "%s@sha256:%s" $ref $image.sha }}{{ end -}}
{{- $ref -}}
{{- end }}

{{- define "kps.imagePullSecrets" -}}
{{- range .Values.global.imagePullSecrets }}
{{- if kindIs "string" . }}
- name: {{ . }}
{{- else }}
- {{ toYaml . | trim }}
{{- end }}
{{- end }}
{{- end }}

{{/* Grafana subchart names (grafana chart 12.x): release-grafana unless the release contains "grafana". */}}
{{- define "kps.grafana.fullname" -}}
{{- if contains "grafana" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-grafana" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end }}

{{- define "kps.grafana.namespace" -}}
{{- default .Release.Namespace .Values.grafana.namespaceOverride -}}
{{- end }}

{{- define "kps.grafana.selectorLabels" -}}
app.kubernetes.io/name: grafana
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kps.grafana.labels" -}}
helm.sh/chart: grafana-12.11.1
{{ include "kps.grafana.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.grafana.image.tag | default "13.2.0" | quote }}
{{- end }}
