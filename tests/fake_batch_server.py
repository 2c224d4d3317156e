"""The fake OpenAI-compatible server with a batch API: POST /v1/files (multipart, purpose batch),
GET /v1/files/{id}/content, POST /v1/batches, GET /v1/batches/{id}. Answers are the fake server's
own (reply_text), so a batch run and a run through the normal path get the same ones.

    with FakeBatchServer(fail_lines=2, expire={1}) as srv:
        ... srv.uploads, srv.created -> how many files were uploaded and batches created

Each GET of a batch moves it one step: validating -> in_progress -> finalizing -> completed. While
`hold` is cleared a batch stays in_progress (its counts grow by one each poll); `polled` is set at
the first poll of any batch. The first `fail_lines` lines of every batch are answered HTTP 500 in the
error file; the batches whose creation index is in `expire` expire instead of completing: their
first half is answered, the rest is in the error file with code batch_expired.
"""
from __future__ import annotations

import itertools
import json
import threading
import time

from fake_openai_server import FakeOpenAIServer


class FakeBatchServer(FakeOpenAIServer):
    def __init__(self, *, fail_lines: int = 0, expire=(), **kw) -> None:
        super().__init__(**kw)
        self.fail_lines, self.expire = fail_lines, set(expire)
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict] = {}
        self.uploads = self.created = 0
        self.hold, self.polled = threading.Event(), threading.Event()
        self.hold.set()
        self._ids = itertools.count()

    async def _respond(self, method: str, path: str, raw: bytes, writer) -> bool:
        if method == "POST" and path == "/v1/files":
            if b'name="purpose"\r\n\r\nbatch' not in raw:
                self._send(writer, 400, {"error": {"message": "purpose must be batch"}})
                return True
            start = raw.index(b"\r\n\r\n", raw.index(b'name="file"')) + 4
            file_id = f"file-{next(self._ids)}"
            self.files[file_id] = raw[start:raw.rindex(b"\r\n--")]
            self.uploads += 1
            self._send(writer, 200, {"id": file_id, "object": "file", "purpose": "batch",
                                     "bytes": len(self.files[file_id])})
        elif method == "GET" and path.startswith("/v1/files/") and path.endswith("/content"):
            self._send(writer, 200, self.files[path.split("/")[3]])
        elif method == "POST" and path == "/v1/batches":
            ask = json.loads(raw)
            lines = self.files[ask["input_file_id"]].count(b"\n")
            batch_id = f"batch_{self.created}"
            self.batches[batch_id] = {"id": batch_id, "object": "batch", "endpoint": ask["endpoint"],
                                      "input_file_id": ask["input_file_id"], "status": "validating",
                                      "created_at": int(time.time()), "output_file_id": None, "error_file_id": None,
                                      "request_counts": {"total": lines, "completed": 0, "failed": 0},
                                      "index": self.created}
            self.created += 1
            self._send(writer, 200, self.batches[batch_id])
        elif method == "GET" and path.startswith("/v1/batches/"):
            batch = self.batches[path.split("/")[3]]
            self.polled.set()
            self._advance(batch)
            self._send(writer, 200, batch)
        else:
            return await super()._respond(method, path, raw, writer)
        return True

    def _advance(self, batch: dict) -> None:
        counts = batch["request_counts"]
        if batch["status"] == "validating":
            batch["status"], batch["in_progress_at"] = "in_progress", int(time.time())
        elif batch["status"] == "in_progress" and not self.hold.is_set():
            counts["completed"] = min(counts["total"] - 1, counts["completed"] + 1)
        elif batch["status"] == "in_progress":
            batch["status"] = "expired" if batch["index"] in self.expire else "finalizing"
            if batch["status"] == "expired":
                self._finish(batch)
        elif batch["status"] == "finalizing":
            batch["status"] = "completed"
            self._finish(batch)

    def _finish(self, batch: dict) -> None:
        lines = [json.loads(x) for x in self.files[batch["input_file_id"]].splitlines()]
        out, errors = [], []
        cut = len(lines) // 2 if batch["status"] == "expired" else len(lines)
        for k, line in enumerate(lines):
            row = {"id": f"batch_req_{k}", "custom_id": line["custom_id"], "response": None, "error": None}
            if k >= cut:
                row["error"] = {"code": "batch_expired", "message": "not run before the completion window ended"}
                errors.append(row)
            elif k < self.fail_lines:
                row["response"] = {"status_code": 500, "body": {"error": {"message": "injected batch 500"}}}
                errors.append(row)
            else:
                body = self._completion(line["url"], line["body"], truncate=False)
                row["response"] = {"status_code": 200, "request_id": f"req_{k}", "body": body}
                out.append(row)
        for name, rows in (("output_file_id", out), ("error_file_id", errors)):
            if rows:
                file_id = f"file-{next(self._ids)}"
                self.files[file_id] = "".join(json.dumps(r) + "\n" for r in rows).encode()
                batch[name] = file_id
        batch["request_counts"].update(completed=len(out), failed=len(errors))
