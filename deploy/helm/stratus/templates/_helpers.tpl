{{/* Names and labels: "stratus.labels" always goes with "stratus.selectorLabels". */}}
{{- define "stratus.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "stratus.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: stratus
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "name" "detector") */}}
{{- define "stratus.selectorLabels" -}}
app.kubernetes.io/name: stratus
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* An image reference: (dict "root" $ "name" "detector" "tag" "") */}}
{{- define "stratus.image" -}}
{{- $img := printf "%s-%s:%s" .root.Values.image.prefix .name (default (default .root.Chart.AppVersion .root.Values.image.tag) .tag) -}}
{{- if .root.Values.image.registry -}}
{{- printf "%s/%s" .root.Values.image.registry $img -}}
{{- else -}}
{{- $img -}}
{{- end -}}
{{- end -}}

{{/* The Secret and key holding the database URL. */}}
{{- define "stratus.databaseSecret" -}}
{{- if .Values.postgresql.enabled -}}
{{- printf "%s-postgresql" (include "stratus.fullname" .) -}}
{{- else if .Values.database.existingSecret -}}
{{- .Values.database.existingSecret -}}
{{- else -}}
{{- printf "%s-database" (include "stratus.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "stratus.databaseSecretKey" -}}
{{- if or .Values.postgresql.enabled (not .Values.database.existingSecret) -}}
url
{{- else -}}
{{- .Values.database.existingSecretKey -}}
{{- end -}}
{{- end -}}

{{/*
The Stratus services the release runs, comma-separated: the five, and the console unless
console.enabled is false. Use: splitList "," (include "stratus.services" .)
*/}}
{{- define "stratus.services" -}}
ingest,detector,recognition,mask,sentiment{{ if .Values.console.enabled }},console{{ end }}
{{- end -}}

{{/*
What each service needs: the database, the models, and the addresses of other services.
ingest fans frames to the detector and faces to recognition and mask; recognition calls the
detector and mask; mask calls the detector (for faces when a request gives no boxes); the
console calls all five. Ingest, recognition and sentiment keep state in
PostgreSQL; the console reads only the API keys table there (users log in with those keys).
*/}}
{{- define "stratus.needsDatabase" -}}
{{- if has . (list "ingest" "recognition" "sentiment" "console") -}}true{{- end -}}
{{- end -}}
{{- define "stratus.needsModels" -}}
{{- if has . (list "detector" "recognition" "mask" "sentiment") -}}true{{- end -}}
{{- end -}}
{{- define "stratus.callees" -}}
{{- if eq . "ingest" -}}detector,recognition,mask
{{- else if eq . "recognition" -}}detector,mask
{{- else if eq . "mask" -}}detector
{{- else if eq . "console" -}}ingest,detector,recognition,mask,sentiment
{{- end -}}
{{- end -}}

{{/*
The gRPC backends: every service another service of the release calls (a callee of one of
stratus.services), comma-separated. Each gets a headless Service <fullname>-<name>-headless
beside its ClusterIP Service. Use: splitList "," (include "stratus.grpcBackends" .)
*/}}
{{- define "stratus.grpcBackends" -}}
{{- $backends := list -}}
{{- range $caller := splitList "," (include "stratus.services" .) -}}
{{- range $callee := splitList "," (include "stratus.callees" $caller) -}}
{{- if $callee }}{{ $backends = append $backends $callee }}{{ end -}}
{{- end -}}
{{- end -}}
{{- $ordered := list -}}
{{- range $name := splitList "," (include "stratus.services" .) -}}
{{- if has $name $backends }}{{ $ordered = append $ordered $name }}{{ end -}}
{{- end -}}
{{- join "," $ordered -}}
{{- end -}}

{{/*
The gRPC target another service dials a backend by: (dict "root" $ "name" "detector") ->
dns:///<fullname>-detector-headless.<namespace>.svc.<clusterDomain>:<grpcPort>. The headless
Service's DNS name resolves to the address of every ready pod, not to one virtual IP, so the
clients' round_robin (common/grpc_channel.h MakeChannel) spreads calls over all replicas; a
ClusterIP name would give it one address, and kube-proxy balances connections, not calls, so
one long-lived HTTP/2 connection would pin every call of a client to one replica.
*/}}
{{- define "stratus.grpcTarget" -}}
{{- printf "dns:///%s-%s-headless.%s.svc.%s:%v" (include "stratus.fullname" .root) .name .root.Release.Namespace .root.Values.tls.clusterDomain (index .root.Values .name).grpcPort -}}
{{- end -}}

{{/* The model volume: an emptyDir filled from the models image, or an existing claim. */}}
{{- define "stratus.modelVolume" -}}
- name: models
{{- if .Values.models.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.models.existingClaim }}
    readOnly: true
{{- else }}
  emptyDir:
    sizeLimit: {{ .Values.models.sizeLimit }}
{{- end }}
{{- end -}}

{{- define "stratus.modelInit" -}}
{{- if not .Values.models.existingClaim }}
- name: models
  image: {{ include "stratus.image" (dict "root" . "name" .Values.models.image.name "tag" .Values.models.image.tag) }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command: ["cp", "-a", "/models/.", "/target/"]
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: models
      mountPath: /target
  resources:
    requests: {cpu: 100m, memory: 64Mi}
    limits: {memory: 256Mi}
{{- end }}
{{- end -}}

{{/* The Secret with the keys the AWS JSON endpoints (recognition, sentiment) accept. */}}
{{- define "stratus.apiKeysSecret" -}}
{{- default (printf "%s-api-keys" (include "stratus.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}
{{- define "stratus.awsSecret" -}}
{{- default (printf "%s-aws" (include "stratus.fullname" .)) .Values.aws.existingSecret -}}
{{- end -}}

{{/*
TLS (tls.enabled): the kubernetes.io/tls Secret every Stratus pod mounts at /etc/stratus/tls,
tls.existingSecret or, made by the cert-manager Certificate, <fullname>-tls.
*/}}
{{- define "stratus.tlsSecret" -}}
{{- if .Values.tls.existingSecret -}}
{{- .Values.tls.existingSecret -}}
{{- else if .Values.tls.certManager.enabled -}}
{{- printf "%s-tls" (include "stratus.fullname" .) -}}
{{- else -}}
{{- fail "tls.enabled needs tls.existingSecret or tls.certManager.enabled" -}}
{{- end -}}
{{- end -}}
{{- define "stratus.tlsDir" -}}/etc/stratus/tls{{- end -}}

{{/*
The names a Stratus Service is dialled by, one a line: (dict "root" $ "name" "detector"); for a
gRPC backend also those of its headless Service (stratus.grpcTarget's). The text begins with a
newline: trim it before splitting.
*/}}
{{- define "stratus.serviceDnsNames" -}}
{{- $ns := .root.Release.Namespace -}}
{{- $base := printf "%s-%s" (include "stratus.fullname" .root) .name -}}
{{- $names := list $base -}}
{{- if or (has .name (splitList "," (include "stratus.grpcBackends" .root))) (eq .name "ingest") }}{{ $names = append $names (printf "%s-headless" $base) }}{{ end -}}
{{- range $svc := $names }}
{{ $svc }}
{{ $svc }}.{{ $ns }}
{{ $svc }}.{{ $ns }}.svc
{{ $svc }}.{{ $ns }}.svc.{{ $.root.Values.tls.clusterDomain }}
{{- end -}}
{{- end -}}

{{/* recognition.videoBuckets as --bucket's NAME=DIR,NAME=DIR (each mounted under /var/lib/stratus/buckets). */}}
{{- define "stratus.videoBucketMap" -}}
{{- $pairs := list -}}
{{- range . -}}
{{- $pairs = append $pairs (printf "%s=/var/lib/stratus/buckets/%s" (required "recognition.videoBuckets[].name is required" .name) .name) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}

{{/* recognition.notificationTopics as --notification-topic's ARN=URL,ARN=URL (sorted by ARN). */}}
{{- define "stratus.notificationTopicMap" -}}
{{- $pairs := list -}}
{{- range $arn, $url := . -}}
{{- $pairs = append $pairs (printf "%s=%s" $arn $url) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}
