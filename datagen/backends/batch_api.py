"""An OpenAI-compatible batch API over the teacher's HTTP client: upload a JSONL file of requests
(POST /files, purpose "batch"), create a batch (POST /batches), read it (GET /batches/{id}), and
download its output and error files (GET /files/{id}/content).

    api = BatchAPI(http)
    file_id = await api.upload(b'{"custom_id": "k1", "method": "POST", "url": "/v1/chat/completions", ...}\\n')
    batch = await api.create(file_id, "/v1/chat/completions")   # -> {"id": "batch_...", "status": "validating"}
    batch = await api.get(batch["id"])                           # ... until status is in TERMINAL
    lines = await api.lines(batch["output_file_id"])            # -> [{"custom_id": "k1", "response": {...}}]

Limits of one batch (OpenAI's): 50,000 requests and 200 MB of input file.
"""
from __future__ import annotations

import json
import uuid

from datagen.backends import safe_url
from datagen.backends.http_client import BodyTooLarge, HttpClient
from datagen.backends.openai_errors import error_text
from datagen.errors import DatagenError

MAX_REQUESTS = 50_000
MAX_BYTES = 200 * 1024 * 1024
MAX_OUTPUT = 1 << 30  # an output file of 50,000 answers is ~100-200 MB; more is not an answer file
TERMINAL = ("completed", "failed", "expired", "cancelled")


class BatchAPI:
    def __init__(self, http: HttpClient) -> None:
        self.http = http

    async def _call(self, method: str, path: str, body: bytes = b"", headers: dict | None = None,
                    max_body: int = 1 << 20) -> bytes:
        try:
            resp = await self.http.request(method, path, body, headers, max_body=max_body)
        except BodyTooLarge as exc:
            raise DatagenError(f"the batch API's answer to {method} {path.split('?')[0]}: {exc}") from None
        if resp.status == 404 and path in ("/files", "/batches"):
            raise DatagenError(f"{safe_url(self.http.url(path))} answered HTTP 404: this server has no batch API "
                               "(run without --teacher.batch, or run the JSONL offline: docs/teachers.md)")
        if not 200 <= resp.status < 300:
            raise DatagenError(f"the batch API refused {method} {path.split('?')[0]}: HTTP {resp.status}: "
                               f"{error_text(resp.body)}")
        return resp.body

    async def upload(self, data: bytes, name: str = "datagen-batch.jsonl") -> str:
        boundary = f"datagen-{uuid.uuid4().hex}"
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                "Content-Type: application/jsonl\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        out = _json(await self._call("POST", "/files", body,
                                     {"Content-Type": f"multipart/form-data; boundary={boundary}"}))
        return str(out["id"])

    async def create(self, file_id: str, endpoint: str) -> dict:
        body = json.dumps({"input_file_id": file_id, "endpoint": endpoint, "completion_window": "24h",
                           "metadata": {"made_by": "datagen"}}).encode()
        return _json(await self._call("POST", "/batches", body))

    async def get(self, batch_id: str) -> dict:
        return _json(await self._call("GET", f"/batches/{batch_id}"))

    async def lines(self, file_id: str | None) -> list[dict]:
        if not file_id:
            return []
        text = (await self._call("GET", f"/files/{file_id}/content", max_body=MAX_OUTPUT)).decode("utf-8", "replace")
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def _json(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise DatagenError(f"the batch API answered something that is not a JSON object: {body[:80]!r}")
    return data


def split(lines: list[bytes], max_requests: int = MAX_REQUESTS, max_bytes: int = MAX_BYTES) -> list[list[bytes]]:
    """JSONL lines (each ending in a newline) -> files of at most max_requests lines and max_bytes."""
    files: list[list[bytes]] = [[]]
    size = 0
    for line in lines:
        if files[-1] and (len(files[-1]) >= max_requests or size + len(line) > max_bytes):
            files.append([])
            size = 0
        files[-1].append(line)
        size += len(line)
    return [f for f in files if f]
