{{/* Names, labels, images and the pod pieces the components share. */}}

{{/* Release-scoped base name: the release name, with the chart name unless it already holds it. */}}
{{- define "chunkmesh.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* A component's object name. Call with (dict "root" $ "component" "router"). */}}
{{- define "chunkmesh.name" -}}
{{- printf "%s-%s" (include "chunkmesh.fullname" .root) .component -}}
{{- end -}}

{{/* The Redis namespace routers and workers share. */}}
{{- define "chunkmesh.cluster" -}}
{{- .Values.global.cluster | default .Release.Name -}}
{{- end -}}

{{/* Selector labels: stable across upgrades (never add a version here). */}}
{{- define "chunkmesh.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Every object's labels: the standard set, global.labels, then the component's labels. */}}
{{- define "chunkmesh.labels" -}}
{{ include "chunkmesh.selectorLabels" . }}
app.kubernetes.io/part-of: chunkmesh
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- with .root.Values.global.labels }}
{{ toYaml . }}
{{- end }}
{{- with .values.labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* metadata: name, namespace, labels. Call with (dict "root" $ "component" "router" "values" .Values.router). */}}
{{- define "chunkmesh.metadata" -}}
name: {{ include "chunkmesh.name" . }}
namespace: {{ .root.Release.Namespace }}
labels:
  {{- include "chunkmesh.labels" . | nindent 2 }}
{{- end -}}

{{/* An image reference from {repository, tag, digest}: global registry, digest over tag, tag defaulting to appVersion. */}}
{{- define "chunkmesh.image" -}}
{{- $repo := .repository -}}
{{- with .root.Values.global.imageRegistry }}{{ $repo = printf "%s/%s" . $repo }}{{ end -}}
{{- if .digest -}}
{{- printf "%s@%s" $repo .digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (.tag | default .root.Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* The Redis URL variables: REDIS_PASSWORD from its Secret first, so CHUNKMESH_REDIS_URL can
     reference it ($(VAR) expansion): the password never appears in the pod spec or in args. */}}
{{- define "chunkmesh.redisEnv" -}}
{{- $r := .Values.redis -}}
{{- if eq $r.mode "external" -}}
{{- $parts := splitn "://" 2 $r.external.url -}}
{{- if $r.external.existingSecret }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $r.external.existingSecret }}
      key: {{ $r.external.passwordKey }}
- name: CHUNKMESH_REDIS_URL
  value: {{ printf "%s://%s:$(REDIS_PASSWORD)@%s" $parts._0 $r.external.username $parts._1 | quote }}
{{- else }}
- name: CHUNKMESH_REDIS_URL
  value: {{ $r.external.url | quote }}
{{- end }}
{{- if $r.external.tls.caSecret }}
- name: CHUNKMESH_REDIS_TLS_CA_FILE
  value: /etc/chunkmesh/redis-ca/{{ $r.external.tls.caKey }}
{{- end }}
{{- if $r.external.tls.clientSecret }}
- name: CHUNKMESH_REDIS_TLS_CERT_FILE
  value: /etc/chunkmesh/redis-client/tls.crt
- name: CHUNKMESH_REDIS_TLS_KEY_FILE
  value: /etc/chunkmesh/redis-client/tls.key
{{- end }}
{{- else }}
- name: CHUNKMESH_REDIS_URL
  value: {{ printf "redis://%s:6379" (include "chunkmesh.name" (dict "root" . "component" "redis")) | quote }}
{{- end }}
- name: CHUNKMESH_CLUSTER
  value: {{ include "chunkmesh.cluster" . | quote }}
{{- end -}}

{{/* Volumes every chunkmesh container mounts: /tmp (the root filesystem is read-only), the
     Redis CA when given, the model volume when given, then the component's extra volumes. */}}
{{- define "chunkmesh.volumes" -}}
- name: tmp
  emptyDir: {}
{{- with .root.Values.redis }}
{{- if and (eq .mode "external") .external.tls.caSecret }}
- name: redis-ca
  secret:
    secretName: {{ .external.tls.caSecret }}
{{- end }}
{{- if and (eq .mode "external") .external.tls.clientSecret }}
- name: redis-client
  secret:
    secretName: {{ .external.tls.clientSecret }}
{{- end }}
{{- end }}
{{- if and .model .root.Values.global.model.volume }}
- name: model
  {{- toYaml .root.Values.global.model.volume | nindent 2 }}
{{- end }}
{{- with .values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "chunkmesh.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- with .root.Values.redis }}
{{- if and (eq .mode "external") .external.tls.caSecret }}
- name: redis-ca
  mountPath: /etc/chunkmesh/redis-ca
  readOnly: true
{{- end }}
{{- if and (eq .mode "external") .external.tls.clientSecret }}
- name: redis-client
  mountPath: /etc/chunkmesh/redis-client
  readOnly: true
{{- end }}
{{- end }}
{{- if and .model .root.Values.global.model.volume }}
- name: model
  mountPath: {{ .root.Values.global.model.mountPath }}
  readOnly: true
{{- end }}
{{- with .values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Pod-level scheduling and security shared by every component: pull secrets, node selector,
     tolerations (call with "tolerations" to pass the final list), spread, security context. */}}
{{- define "chunkmesh.podScheduling" -}}
automountServiceAccountToken: false
{{- with .root.Values.global.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.topologySpreadConstraints }}
{{- $own := dict "labelSelector" (dict "matchLabels" (fromYaml (include "chunkmesh.selectorLabels" $))) }}
{{- $constraints := list }}
{{- range . }}
{{- $constraints = append $constraints (merge (dict) . $own) }}
{{- end }}
topologySpreadConstraints:
  {{- toYaml $constraints | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .values.podSecurityContext | nindent 2 }}
{{- end -}}

{{/* The pod template's metadata: selector labels, pod labels, annotations. */}}
{{- define "chunkmesh.podMetadata" -}}
labels:
  {{- include "chunkmesh.labels" . | nindent 2 }}
  {{- with .values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with .values.podAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* An HTTP probe (port by name) of the probe values {periodSeconds, failureThreshold}. The
     services' gRPC health is not probed: kubelet gRPC probes cannot speak TLS. */}}
{{- define "chunkmesh.httpProbe" -}}
httpGet:
  path: {{ .path }}
  port: {{ .port }}
periodSeconds: {{ .probe.periodSeconds }}
failureThreshold: {{ .probe.failureThreshold }}
timeoutSeconds: 2
{{- end -}}

{{/* What routers and workers share of the security settings: the mode, and with mutual TLS the
     cluster certificate's files (the volume securityVolume mounts). */}}
{{- define "chunkmesh.securityEnv" -}}
- name: CHUNKMESH_MODE
  value: {{ .Values.global.mode | quote }}
{{- if .Values.global.clusterTls.enabled }}
- name: CHUNKMESH_CLUSTER_CA_FILE
  value: /etc/chunkmesh/cluster-tls/ca.crt
- name: CHUNKMESH_CLUSTER_CERT_FILE
  value: /etc/chunkmesh/cluster-tls/tls.crt
- name: CHUNKMESH_CLUSTER_KEY_FILE
  value: /etc/chunkmesh/cluster-tls/tls.key
{{- end }}
{{- end -}}

{{/* The cluster certificate's mount and volume (the volume from the component's clusterTls.volume),
     for templates to include when global.clusterTls.enabled. The volume takes
     (dict "root" $ "values" .Values.router); the mount reads no argument. */}}
{{- define "chunkmesh.clusterTlsMount" -}}
- name: cluster-tls
  mountPath: /etc/chunkmesh/cluster-tls
  readOnly: true
{{- end -}}

{{- define "chunkmesh.clusterTlsVolume" -}}
- name: cluster-tls
  {{- toYaml .values.clusterTls.volume | nindent 2 }}
{{- end -}}
