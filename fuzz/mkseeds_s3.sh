#!/usr/bin/env bash
# fuzz/mkseeds_s3.sh - (re)create fuzz/corpus/s3xml from the answers of a
# real S3 server (the Ceph RADOS Gateway of ../shared/services/s3-up): the
# XML bodies and the response headers of every kind of request lacre's S3
# backend sends (ListObjectsV2 pages with and without a continuation token,
# InitiateMultipartUpload, UploadPart's ETag, CompleteMultipartUpload, and
# the Error documents NoSuchBucket, NoSuchKey, NoSuchUpload).
#
#   set -a; eval "$(../shared/services/s3-up /tmp/lacre-s3 7480)"; set +a
#   fuzz/mkseeds_s3.sh
#
# Talks to $S3_ENDPOINT only when it is on 127.0.0.1.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/fuzz/corpus/s3xml
: "${S3_ENDPOINT:?set the S3_* variables printed by s3-up}"
case $S3_ENDPOINT in http://127.0.0.1:*) ;; *) echo "mkseeds_s3: $S3_ENDPOINT is not loopback" >&2; exit 1;; esac
mkdir -p "$out"
b=lacre-fuzz-$$
e=$(printf '' | sha256sum | cut -d' ' -f1)
# s3 METHOD PATH NAME [BODYFILE]: one signed request; body to NAME, headers to NAME-headers
s3() {
	local m=$1 p=$2 name=$3 body=${4:-} h
	if [ -n "$body" ]; then h=$(sha256sum < "$body" | cut -d' ' -f1); else h=$e; fi
	curl -s --aws-sigv4 "aws:amz:${S3_REGION:-us-east-1}:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
		-H "x-amz-content-sha256: $h" -X "$m" ${body:+--data-binary @"$body"} \
		-D "$out/$name-headers" -o "$out/$name" "$S3_ENDPOINT/$b$p"
	[ -s "$out/$name" ] || rm -f "$out/$name"
}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
s3 GET "?list-type=2&prefix=lacre%2F" list-nosuchbucket
s3 PUT "" create-bucket
for n in checkpoint tile/0/000 tile/0/001.p/7 tile/entries/000 seg-ab/20260101-0001.age; do
	printf 'x%.0s' $(seq 1 7) > "$T/obj"
	s3 PUT "/lacre/site-1/$n" put-one "$T/obj"
done
s3 GET "?list-type=2&max-keys=2&prefix=lacre%2Fsite-1%2F" list-page1
tok=$(sed -n 's:.*<NextContinuationToken>\([^<]*\)</NextContinuationToken>.*:\1:p' "$out/list-page1")
s3 GET "?continuation-token=$(printf %s "$tok" | python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.stdin.read(),safe=""))')&list-type=2&max-keys=2&prefix=lacre%2Fsite-1%2F" list-page2
s3 GET "?list-type=2&max-keys=1000&prefix=lacre%2Fsite-1%2F" list-all
s3 GET "?list-type=2&prefix=nothing%2F" list-empty
s3 GET "/lacre/site-1/missing" get-nosuchkey
s3 POST "/lacre/site-1/big?uploads=" mp-initiate
up=$(sed -n 's:.*<UploadId>\([^<]*\)</UploadId>.*:\1:p' "$out/mp-initiate")
head -c 5242880 /dev/zero > "$T/part"
s3 PUT "/lacre/site-1/big?partNumber=1&uploadId=$up" mp-part "$T/part"
etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *\([^\r]*\).*/\1/p' "$out/mp-part-headers")
printf '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part></CompleteMultipartUpload>' "$etag" > "$T/complete"
s3 POST "/lacre/site-1/big?uploadId=$up" mp-complete "$T/complete"
s3 POST "/lacre/site-1/big?uploadId=2~nosuchupload" mp-nosuchupload "$T/complete"
# clean up the bucket
for n in checkpoint tile/0/000 tile/0/001.p/7 tile/entries/000 seg-ab/20260101-0001.age big; do
	s3 DELETE "/lacre/site-1/$n" del
done
s3 DELETE "" del
rm -f "$out"/put-one* "$out"/del* "$out"/create-bucket*
ls "$out"
