{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "fleetrelay.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Fully qualified release name. */}}
{{- define "fleetrelay.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "fleetrelay.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fleetrelay.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "fleetrelay.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "fleetrelay.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "fleetrelay.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "fleetrelay.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "fleetrelay.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
Sinks that get a forwarder container, as a JSON list: forwarders.sinks, or
every dispatcher named under config.records (sorted, without repeats).
*/}}
{{- define "fleetrelay.sinks" -}}
{{- $sinks := list -}}
{{- if .Values.forwarders.sinks -}}
{{- $sinks = .Values.forwarders.sinks -}}
{{- else -}}
{{- range $topic, $dispatchers := .Values.config.records -}}
{{- range $dispatchers -}}
{{- if not (has . $sinks) -}}
{{- $sinks = append $sinks . -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson (sortAlpha $sinks) -}}
{{- end -}}

{{/* Is a VIN allowlist mounted? */}}
{{- define "fleetrelay.hasAllowlist" -}}
{{- if or .Values.vinAllowlist.existingConfigMap .Values.vinAllowlist.vins -}}true{{- end -}}
{{- end -}}

{{/*
The configuration file every process of the pod reads: config with the
pod-layout keys set. The forwarders get their metrics address from the
-metrics-addr flag, so one file serves them all.
*/}}
{{- define "fleetrelay.configFile" -}}
{{- $v := .Values -}}
{{- $c := deepCopy $v.config -}}
{{- $_ := set $c "host" "0.0.0.0" -}}
{{- $_ = set $c "port" (int $v.ports.telemetry) -}}
{{- $_ = set $c "status_port" (int $v.ports.status) -}}
{{- $_ = set $c "use_default_eng_ca" $v.tls.useEngCA -}}
{{- $tls := dict "server_cert" "/etc/fleetrelay/tls/tls.crt" "server_key" "/etc/fleetrelay/tls/tls.key" -}}
{{- if $v.tls.clientCASecret -}}
{{- $_ = set $tls "ca_file" "/etc/fleetrelay/client-ca/ca.crt" -}}
{{- end -}}
{{- $_ = set $c "tls" $tls -}}
{{- $mon := deepCopy (default (dict) $v.config.monitoring) -}}
{{- $_ = set $mon "prometheus_metrics_port" (int $v.ports.metrics) -}}
{{- $_ = set $mon "prometheus_metrics_host" "0.0.0.0" -}}
{{- $_ = set $c "monitoring" $mon -}}
{{- $wal := deepCopy (default (dict) $v.config.wal) -}}
{{- $_ = set $wal "dir" "/var/lib/fleetrelay/wal" -}}
{{- $_ = set $c "wal" $wal -}}
{{- $gw := deepCopy (default (dict) $v.config.gateway) -}}
{{- if include "fleetrelay.hasAllowlist" . -}}
{{- $_ = set $gw "vin_allowlist_file" "/etc/fleetrelay/allowlist/vins.txt" -}}
{{- end -}}
{{- $_ = set $c "gateway" $gw -}}
{{- toPrettyJson $c -}}
{{- end -}}
