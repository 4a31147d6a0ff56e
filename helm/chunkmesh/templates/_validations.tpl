{{/* Checks across values that the schema cannot express, each failing with what to change.
     validate.yaml includes this, so every render and install runs it first. */}}
{{- define "chunkmesh.validate" -}}
{{- $v := .Values -}}

{{- /* Redis */ -}}
{{- if eq $v.redis.mode "external" -}}
{{- $url := required "redis.mode is external: set redis.external.url (redis://host:6379 or rediss://host:6380)" $v.redis.external.url -}}
{{- if not (regexMatch "^rediss?://[^/@]+(/[0-9]+)?$" $url) -}}
{{- fail (printf "redis.external.url must be redis://host:port or rediss://host:port without a password, got %q; put the password in a Secret and name it in redis.external.existingSecret" $url) -}}
{{- end -}}
{{- if and (or $v.redis.external.tls.caSecret $v.redis.external.tls.clientSecret) (not (hasPrefix "rediss://" $url)) -}}
{{- fail "redis.external.tls.caSecret or clientSecret is set but redis.external.url is not rediss://: TLS is chosen by the URL scheme" -}}
{{- end -}}
{{- if and $v.redis.external.username (not $v.redis.external.existingSecret) -}}
{{- fail "redis.external.username needs its password: name the Secret holding it in redis.external.existingSecret" -}}
{{- end -}}
{{- end -}}

{{- /* Security: production mode refuses what the services would refuse at start. */ -}}
{{- $ct := $v.global.clusterTls.enabled -}}
{{- if and $ct (not (and $v.router.clusterTls.volume $v.worker.clusterTls.volume)) -}}
{{- fail "global.clusterTls.enabled needs router.clusterTls.volume and worker.clusterTls.volume (each with ca.crt, tls.crt, tls.key; a worker's naming its pod)" -}}
{{- end -}}
{{- if eq $v.global.mode "production" -}}
{{- $missing := list -}}
{{- if not $v.router.apiKeys.existingSecret }}{{ $missing = append $missing "router.apiKeys.existingSecret" }}{{ end -}}
{{- if not $v.router.tls.existingSecret }}{{ $missing = append $missing "router.tls.existingSecret" }}{{ end -}}
{{- if not $ct }}{{ $missing = append $missing "global.clusterTls.enabled" }}{{ end -}}
{{- if $missing -}}
{{- fail (printf "global.mode is production, which needs %s (or set global.mode=development)" (join ", " $missing)) -}}
{{- end -}}
{{- end -}}
{{- if and $v.tests.enabled $v.router.apiKeys.existingSecret (not $v.tests.apiKeySecret) -}}
{{- fail "router.apiKeys is set, so the helm test needs a key: name a Secret holding one in tests.apiKeySecret (or set tests.enabled=false)" -}}
{{- end -}}

{{- /* GPU */ -}}
{{- if and (ne $v.worker.device "cpu") (lt (int $v.worker.gpu.count) 1) -}}
{{- fail (printf "worker.device is %s but worker.gpu.count is %v: a GPU worker needs at least one GPU (or set worker.device=cpu)" $v.worker.device $v.worker.gpu.count) -}}
{{- end -}}
{{- if and (ne $v.worker.device "cpu") $v.worker.gpu.nodeAffinity.enabled (not $v.worker.gpu.nodeAffinity.labelValues) -}}
{{- fail "worker.gpu.nodeAffinity.enabled needs worker.gpu.nodeAffinity.labelValues (the GPU models to accept), or disable it" -}}
{{- end -}}

{{- /* Graceful drain: the kubelet kills the pod at the end of its grace period, whatever is running. */ -}}
{{- $w := $v.worker -}}
{{- $preStop := ternary $w.preStop.drainTimeoutSeconds $w.preStop.sleepSeconds (gt (len $w.preStop.drainCommand) 0) -}}
{{- $needed := add $preStop $w.shutdownGraceSeconds $w.teardownSeconds -}}
{{- if le (int $w.terminationGracePeriodSeconds) (int $needed) -}}
{{- fail (printf "worker.terminationGracePeriodSeconds (%v) must exceed the preStop time (%v) + worker.shutdownGraceSeconds (%v) + worker.teardownSeconds (%v) = %v, or the drain is cut short" $w.terminationGracePeriodSeconds $preStop $w.shutdownGraceSeconds $w.teardownSeconds $needed) -}}
{{- end -}}
{{- $liveness := mul $w.probes.liveness.periodSeconds $w.probes.liveness.failureThreshold -}}
{{- if le (int $liveness) (int (add $w.shutdownGraceSeconds $w.teardownSeconds)) -}}
{{- fail (printf "worker liveness probe gives up after %v s (periodSeconds x failureThreshold), within the drain (worker.shutdownGraceSeconds %v + worker.teardownSeconds %v), which reports NOT_SERVING: raise worker.probes.liveness" $liveness $w.shutdownGraceSeconds $w.teardownSeconds) -}}
{{- end -}}
{{- $r := $v.router -}}
{{- if le (int $r.terminationGracePeriodSeconds) (int (add $r.preStopSleepSeconds $r.teardownSeconds)) -}}
{{- fail (printf "router.terminationGracePeriodSeconds (%v) must exceed router.preStopSleepSeconds (%v) + router.teardownSeconds (%v)" $r.terminationGracePeriodSeconds $r.preStopSleepSeconds $r.teardownSeconds) -}}
{{- end -}}
{{- if and $v.jobs.enabled (le (int $v.jobs.terminationGracePeriodSeconds) (int $v.jobs.teardownSeconds)) -}}
{{- fail (printf "jobs.terminationGracePeriodSeconds (%v) must exceed jobs.teardownSeconds (%v)" $v.jobs.terminationGracePeriodSeconds $v.jobs.teardownSeconds) -}}
{{- end -}}

{{- /* Scaling: two autoscalers on one Deployment fight over its replicas. */ -}}
{{- range $c := list "router" "worker" -}}
{{- $s := index $v $c -}}
{{- if and $s.autoscaling.enabled $s.keda.enabled -}}
{{- fail (printf "%s.autoscaling.enabled and %s.keda.enabled are both true: KEDA creates its own HPA, so enable one of them" $c $c) -}}
{{- end -}}
{{- if and $s.keda.enabled $v.monitoring.requireCRDs (not ($.Capabilities.APIVersions.Has "keda.sh/v1alpha1")) -}}
{{- fail (printf "%s.keda.enabled needs KEDA (keda.sh/v1alpha1) in the cluster; install KEDA, or with helm template pass --api-versions keda.sh/v1alpha1, or set monitoring.requireCRDs=false" $c) -}}
{{- end -}}
{{- end -}}

{{- /* Monitoring objects need the Prometheus Operator's CRDs. */ -}}
{{- $m := $v.monitoring -}}
{{- if and (or $m.serviceMonitor.enabled $m.podMonitor.enabled $m.prometheusRule.enabled) $m.requireCRDs (not (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1")) -}}
{{- fail "monitoring.serviceMonitor/podMonitor/prometheusRule need the Prometheus Operator CRDs (monitoring.coreos.com/v1); install them, or with helm template pass --api-versions monitoring.coreos.com/v1, or set monitoring.requireCRDs=false" -}}
{{- end -}}
{{- end -}}
