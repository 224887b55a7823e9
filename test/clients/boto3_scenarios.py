"""boto3 scenarios for test/clients/boto3.test.ts.

Usage: python3 boto3_scenarios.py SCENARIO '<json settings>'
Settings: endpoint, access_key, secret_key, ca (path or null), plus the
scenario's own fields. Prints one JSON object on the last line of stdout
with what the scenario observed; the Node test asserts on it.
"""
import hashlib
import json
import sys

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

MiB = 1024 * 1024


def client(s):
    return boto3.client(
        "s3",
        endpoint_url=s["endpoint"],
        aws_access_key_id=s["access_key"],
        aws_secret_access_key=s["secret_key"],
        region_name="us-east-1",
        verify=s["ca"] if s["ca"] else None,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
    )


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            h.update(chunk)
    return h.hexdigest()


def small_parts(size_mib):
    n = size_mib * MiB
    return TransferConfig(multipart_threshold=n, multipart_chunksize=n, max_concurrency=4)


def upload_file(s):
    """upload_file with a small multipart_chunksize, then download_file back."""
    c = client(s)
    c.create_bucket(Bucket=s["bucket"])
    c.upload_file(s["file"], s["bucket"], "up", Config=small_parts(s["part_mib"]))
    head = c.head_object(Bucket=s["bucket"], Key="up")
    c.download_file(s["bucket"], "up", s["back"], Config=small_parts(s["part_mib"]))
    return {"etag": head["ETag"], "size": head["ContentLength"], "sha256": sha256_of(s["back"])}


def managed_copy(s):
    """copy() between buckets with a small multipart threshold (UploadPartCopy)."""
    c = client(s)
    c.create_bucket(Bucket=s["bucket"])
    c.create_bucket(Bucket=s["bucket2"])
    c.upload_file(s["file"], s["bucket"], "src", Config=small_parts(8))
    c.copy({"Bucket": s["bucket"], "Key": "src"}, s["bucket2"], "copied", Config=small_parts(s["part_mib"]))
    head = c.head_object(Bucket=s["bucket2"], Key="copied")
    c.delete_object(Bucket=s["bucket"], Key="src")
    c.download_file(s["bucket2"], "copied", s["back"])
    return {"etag": head["ETag"], "size": head["ContentLength"], "sha256": sha256_of(s["back"])}


def copy_old_version(s):
    """Versioned bucket: two versions of one key, list them, copy() the old one."""
    c = client(s)
    b = s["bucket"]
    c.create_bucket(Bucket=b)
    c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    c.upload_file(s["file"], b, "doc", Config=small_parts(8))
    c.put_object(Bucket=b, Key="doc", Body=b"the newer, small version")
    listed = c.list_object_versions(Bucket=b, Prefix="doc")
    versions = [
        {"id": v["VersionId"], "latest": v["IsLatest"], "size": v["Size"], "etag": v["ETag"]}
        for v in listed.get("Versions", [])
    ]
    old = [v for v in versions if not v["latest"]]
    result = {"versions": versions}
    if len(old) != 1:
        return result
    source = {"Bucket": b, "Key": "doc", "VersionId": old[0]["id"]}
    c.copy(source, b, "restored", Config=small_parts(s["part_mib"]))
    head = c.head_object(Bucket=b, Key="restored")
    c.download_file(b, "restored", s["back"])
    current = c.get_object(Bucket=b, Key="doc")["Body"].read()
    result.update({
        "old_id": old[0]["id"],
        "etag": head["ETag"],
        "size": head["ContentLength"],
        "sha256": sha256_of(s["back"]),
        "current": current.decode(),
    })
    return result


def sse_c(key):
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}


def status_of(call):
    """The HTTP status of a call expected to fail (None if it succeeded)."""
    try:
        call()
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None


def sse_c_copy(s):
    """upload_file with SSE-C in small parts, download_file with the key, then
    copy() with a small multipart threshold (UploadPartCopy) from that SSE-C
    source to an SSE-C destination under another key, and read it back."""
    c = client(s)
    b, b2 = s["bucket"], s["bucket2"]
    key_a, key_b = bytes.fromhex(s["key_a"]), bytes.fromhex(s["key_b"])
    c.create_bucket(Bucket=b)
    c.create_bucket(Bucket=b2)
    parts = small_parts(s["part_mib"])
    c.upload_file(s["file"], b, "src", ExtraArgs=sse_c(key_a), Config=parts)
    head = c.head_object(Bucket=b, Key="src", **sse_c(key_a))
    c.download_file(b, "src", s["back"], ExtraArgs=sse_c(key_a), Config=parts)
    uploaded = {
        "etag": head["ETag"], "size": head["ContentLength"], "algorithm": head.get("SSECustomerAlgorithm"),
        "key_md5": head.get("SSECustomerKeyMD5"), "sha256": sha256_of(s["back"]),
        "head_without_key": status_of(lambda: c.head_object(Bucket=b, Key="src")),
    }
    copy_args = {
        "CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": key_a, **sse_c(key_b),
    }
    c.copy({"Bucket": b, "Key": "src"}, b2, "copied", ExtraArgs=copy_args, Config=parts)
    head2 = c.head_object(Bucket=b2, Key="copied", **sse_c(key_b))
    c.delete_object(Bucket=b, Key="src")
    c.download_file(b2, "copied", s["back2"], ExtraArgs=sse_c(key_b), Config=parts)
    copied = {
        "etag": head2["ETag"], "size": head2["ContentLength"], "algorithm": head2.get("SSECustomerAlgorithm"),
        "key_md5": head2.get("SSECustomerKeyMD5"), "sha256": sha256_of(s["back2"]),
        "head_with_source_key": status_of(lambda: c.head_object(Bucket=b2, Key="copied", **sse_c(key_a))),
    }
    return {"uploaded": uploaded, "copied": copied}


SCENARIOS = {
    "upload_file": upload_file, "managed_copy": managed_copy, "copy_old_version": copy_old_version, "sse_c_copy": sse_c_copy,
}

if __name__ == "__main__":
    settings = json.loads(sys.argv[2])
    print(json.dumps(SCENARIOS[sys.argv[1]](settings)))
