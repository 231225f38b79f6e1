#!/bin/sh
# One-shot set-up of the evidence store (runs in the minio/mc image, as the MinIO root user):
# the bucket with object lock (and so versioning) and a default COMPLIANCE retention of
# RETENTION_DAYS (0: none) for every new version, and two users that are not root —
#   the app's: writes, reads and holds evidence, and can never delete a version or loosen the bucket;
#   the janitor's: removes versions of uploads the database proves are no evidence (it lifts their
#   holds first), and can never write evidence or loosen the bucket.
# Idempotent: compose runs it on every start.
set -eu
POLICIES="${POLICIES:-/policies}"  # where compose mounts deploy/minio
: "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}" "${BUCKET:?}"
: "${APP_ACCESS_KEY:?}" "${APP_SECRET_KEY:?}" "${JANITOR_ACCESS_KEY:?}" "${JANITOR_SECRET_KEY:?}"
RETENTION_DAYS="${RETENTION_DAYS:-0}"

mc alias set store http://objectstore:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
mc mb --ignore-existing --with-lock "store/$BUCKET"

# The mc image is minimal (no sed, no grep): plain sh does the substitution and the checks.
with_bucket() {
    rest=$1 out=
    while case $rest in *BUCKET*) true ;; *) false ;; esac; do
        out=$out${rest%%BUCKET*}$BUCKET
        rest=${rest#*BUCKET}
    done
    printf '%s' "$out$rest"
}

has() {
    case $1 in *"$2"*) true ;; *) false ;; esac
}

# COMPLIANCE: no user, root included, can delete a version or shorten its retention before it ends
# (the same default the app's ensure-bucket writes on SeaweedFS; the app only reads it here, and its
# policy denies changing it). The default applies to versions written from now on.
if [ "$RETENTION_DAYS" -gt 0 ]; then
    mc retention set --default COMPLIANCE "${RETENTION_DAYS}d" "store/$BUCKET"
    has "$(mc retention info --default "store/$BUCKET")" COMPLIANCE
fi

for role in app janitor; do
    with_bucket "$(cat "$POLICIES/$role-policy.json")" >"/tmp/pil-$role.json"
    mc admin policy create store "pil-$role" "/tmp/pil-$role.json"
done
mc admin user add store "$APP_ACCESS_KEY" "$APP_SECRET_KEY"
mc admin user add store "$JANITOR_ACCESS_KEY" "$JANITOR_SECRET_KEY"
# `attach` fails when the policy is attached already; both outcomes leave the user as wanted.
mc admin policy attach store pil-app --user "$APP_ACCESS_KEY" 2>/dev/null || true
mc admin policy attach store pil-janitor --user "$JANITOR_ACCESS_KEY" 2>/dev/null || true
has "$(mc admin policy entities store --user "$APP_ACCESS_KEY")" pil-app
has "$(mc admin policy entities store --user "$JANITOR_ACCESS_KEY")" pil-janitor
echo "evidence store ready: bucket $BUCKET, users for the app and the janitor"
