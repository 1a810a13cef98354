{{/* Names and labels shared by every template. */}}
{{- define "omnidaemon.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "omnidaemon.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "omnidaemon.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "omnidaemon.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "omnidaemon.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "omnidaemon.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: pass (dict "root" $ "component" "worker"). */}}
{{- define "omnidaemon.selectorLabels" -}}
app.kubernetes.io/name: {{ include "omnidaemon.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "omnidaemon.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "omnidaemon.secretName" -}}
{{- default (printf "%s-secrets" (include "omnidaemon.fullname" .)) .Values.existingSecret -}}
{{- end -}}

{{- define "omnidaemon.coordinatorUrl" -}}
{{- printf "http://%s-coordinator:%v" (include "omnidaemon.fullname" .) .Values.coordinator.service.port -}}
{{- end -}}

{{/*
The worker's hard shutdown deadline in seconds: the drain budget plus the 15 s the worker's runService allows for
closing (apps/worker/src/main.ts). Kubernetes must not SIGKILL before it: the grace period covers preStop + this.
*/}}
{{- define "omnidaemon.workerShutdownSeconds" -}}
{{- add (div (add .Values.worker.shutdownTimeoutMs 999) 1000) 15 -}}
{{- end -}}

{{/* Environment shared by every container: Kafka connection and secrets (secrets by reference or as files). */}}
{{- define "omnidaemon.commonEnv" -}}
- name: OMNIDAEMON_API_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "omnidaemon.secretName" . }}
      key: api-token
{{- if .Values.kafka.sasl.mechanism }}
- name: OMNIDAEMON_KAFKA_SASL_PASSWORD_FILE
  value: /var/run/secrets/omnidaemon/kafka-sasl-password
{{- end }}
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.caSecret }}
- name: OMNIDAEMON_KAFKA_SSL_CA_FILE
  value: /var/run/secrets/omnidaemon-kafka-ca/ca.crt
{{- end }}
{{- end -}}

{{/* Volumes for the secret files and the writable /tmp (the root filesystem is read-only). */}}
{{- define "omnidaemon.volumes" -}}
- name: tmp
  emptyDir:
    medium: Memory
    sizeLimit: {{ .tmpSizeLimit }}
{{- if .root.Values.kafka.sasl.mechanism }}
- name: kafka-credentials
  secret:
    secretName: {{ include "omnidaemon.secretName" .root }}
    defaultMode: 288 # 0440
    items:
      - key: kafka-sasl-password
        path: kafka-sasl-password
{{- end }}
{{- if and .root.Values.kafka.tls.enabled .root.Values.kafka.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ .root.Values.kafka.tls.caSecret }}
    defaultMode: 292 # 0444
{{- end }}
{{- end -}}

{{- define "omnidaemon.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.kafka.sasl.mechanism }}
- name: kafka-credentials
  mountPath: /var/run/secrets/omnidaemon
  readOnly: true
{{- end }}
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: /var/run/secrets/omnidaemon-kafka-ca
  readOnly: true
{{- end }}
{{- end -}}

{{/* Refuses values the schema cannot express. */}}
{{- define "omnidaemon.validate" -}}
{{- if not .Values.kafka.brokers -}}
{{- fail "kafka.brokers is required (comma-separated host:port)" -}}
{{- end -}}
{{- if not .Values.existingSecret -}}
{{- if not .Values.database.url -}}{{- fail "database.url is required (or existingSecret)" -}}{{- end -}}
{{- if not .Values.apiToken -}}{{- fail "apiToken is required (16+ characters, or existingSecret)" -}}{{- end -}}
{{- if and .Values.kafka.sasl.mechanism (not .Values.kafka.sasl.password) -}}
{{- fail "kafka.sasl.password is required with kafka.sasl.mechanism (or existingSecret)" -}}
{{- end -}}
{{- else if or .Values.database.url .Values.apiToken .Values.kafka.sasl.password -}}
{{- fail "existingSecret is set: leave database.url, apiToken and kafka.sasl.password empty" -}}
{{- end -}}
{{- $budget := int (include "omnidaemon.workerShutdownSeconds" .) -}}
{{- $needed := add $budget .Values.worker.preStopSleepSeconds -}}
{{- if le (int .Values.worker.terminationGracePeriodSeconds) (int $needed) -}}
{{- fail (printf "worker.terminationGracePeriodSeconds (%v) must exceed preStopSleepSeconds + the worker's shutdown deadline (shutdownTimeoutMs/1000 + 15 s) = %v" .Values.worker.terminationGracePeriodSeconds $needed) -}}
{{- end -}}
{{- if le (int .Values.coordinator.terminationGracePeriodSeconds) (int (div .Values.coordinator.shutdownTimeoutMs 1000)) -}}
{{- fail "coordinator.terminationGracePeriodSeconds must exceed coordinator.shutdownTimeoutMs/1000" -}}
{{- end -}}
{{- if and .Values.worker.autoscaling.enabled .Values.worker.keda.enabled -}}
{{- fail "worker.autoscaling and worker.keda are mutually exclusive: both would scale deployment/<release>-worker" -}}
{{- end -}}
{{- if and .Values.worker.keda.enabled (or .Values.kafka.sasl.mechanism .Values.kafka.tls.enabled) -}}
{{- fail "worker.keda with kafka.sasl or kafka.tls needs a KEDA TriggerAuthentication this chart does not render; use worker.autoscaling" -}}
{{- end -}}
{{- if and .Values.worker.keda.enabled (not .Values.worker.keda.agents) -}}
{{- fail "worker.keda.agents must list the agents ({topic, name}) whose lag scales the fleet" -}}
{{- end -}}
{{- end -}}
