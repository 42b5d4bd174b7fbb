; a Helm chart's pgbouncer.ini: sprig's quote writes the user's name in double quotes ("bob" =),
; which PgBouncer's parser refuses (a bare name is read)
[databases]
* = host=db.internal port=5432

[users]
{{- range $user := .Values.users }}
{{ $user.name | quote }} = pool_mode={{ $user.pool_mode }}
{{ $user.name }} = max_user_connections=10
{{- end }}

[pgbouncer]
listen_addr = 127.0.0.1
auth_type = scram-sha-256
auth_file = /etc/pgbouncer/userlist.txt
