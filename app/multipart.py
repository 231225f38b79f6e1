"""The GraphQL multipart request (https://github.com/jaydenseric/graphql-multipart-request-spec),
read as it arrives.

`operations` and `map` come first; the files after them reach the resolvers as `Upload` streams
over the rest of the body, so the operation runs while its files are still arriving and no file is
spooled to disk or held whole in memory. A stream has one order: resolvers read the files in the
order the body carries them (the map's order, for the clients we know of); asking for a file the
body has not reached while another comes first is refused. What no resolver read is drained and
checked after the operation and before its commit (`MultipartBody.finish`), so a malformed body
fails the request however far the resolvers got.
"""

from __future__ import annotations

import asyncio
import enum
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from core.errors import BodyOverLimit, PayloadTooLarge, ValidationFailed

# The most of one network chunk handed to the parser (and so copied) at a time: a client or
# server that delivers the body in huge chunks must not make the parser copy them whole.
FEED_BYTES = 256 * 1024
SPEC = "GraphQL multipart request spec"


class _Event(enum.Enum):
    PART = "part"  # a part's headers were read
    DATA = "data"
    PART_END = "part_end"
    END = "end"  # the closing boundary


class _State(enum.Enum):
    WAITING = "waiting"
    OPEN = "open"  # its headers were read, its bytes not yet
    READING = "reading"
    DONE = "done"


class Upload:
    """One file of a multipart request, read once, as it arrives. `filename` and `content_type`
    (the client's word) are known once `open()` has returned."""

    def __init__(self, body: MultipartBody, name: str, field: str):
        self._body = body
        self.name = name
        self.field = field  # where the operation has it, for error messages: e.g. evidence.0.file
        self.filename: str | None = None
        self.content_type: str | None = None
        self._state = _State.WAITING

    def __repr__(self) -> str:
        return f"<Upload part {self.name!r} at {self.field} ({self._state.value})>"

    async def open(self) -> str:
        """Move the body on to this file; returns its file name (empty when the client gave none)."""
        if self._state is not _State.WAITING:
            raise ValidationFailed("同一文件只能读取一次 / each file of the request can be read only once",
                                   field=self.field)
        await self._body._open(self)
        self._state = _State.OPEN
        return self.filename or ""

    async def chunks(self) -> AsyncIterator[bytes]:
        """The file's bytes as they arrive (opening it first if need be)."""
        if self._state is _State.WAITING:
            await self.open()
        if self._state is not _State.OPEN:
            raise ValidationFailed("同一文件只能读取一次 / each file of the request can be read only once",
                                   field=self.field)
        self._state = _State.READING
        async for data in self._body._part_data():
            yield data
        self._state = _State.DONE


class MultipartBody:
    """The body of one multipart request, parsed incrementally with python-multipart."""

    def __init__(self, stream: AsyncIterator[bytes], content_type: str, *, max_bytes: int,
                 max_json_bytes: int, max_files: int, idle_timeout_seconds: float = 60):
        self._stream = aiter(stream)
        # The operation runs while the body arrives, holding what it holds (a database session,
        # a multipart upload): a client that stops sending must not hold them forever.
        self._idle_timeout_seconds = idle_timeout_seconds
        self._max_bytes = max_bytes
        self._max_json_bytes = max_json_bytes
        self._max_files = max_files
        self._received = 0
        self._chunk = b""
        self._offset = 0
        self._events: deque[tuple[_Event, Any]] = deque()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: list[tuple[bytes, bytes]] = []
        self._complete = False  # the closing boundary was read
        self._in_part = False  # inside a file part's bytes
        self._failure: Exception | None = None
        self._uploads: dict[str, Upload] = {}
        self._seen: set[str] = set()
        self._finished = False
        try:
            self._parser = MultipartParser(_boundary(content_type), callbacks={
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
                "on_end": self._on_end,
            })
        except FormParserError as error:  # e.g. a boundary longer than RFC 2046 allows
            raise ValidationFailed(f"multipart boundary 无效 / the multipart boundary is invalid: {error}") from error

    # The parser's callbacks run inside `write`; they only queue what they saw.
    def _on_part_begin(self) -> None:
        self._headers = []

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers.append((bytes(self._header_field).lower(), bytes(self._header_value)))
        self._header_field.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        self._events.append((_Event.PART, self._headers))

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._events.append((_Event.DATA, data[start:end]))

    def _on_part_end(self) -> None:
        self._events.append((_Event.PART_END, None))

    def _on_end(self) -> None:
        self._events.append((_Event.END, None))

    async def read_operations(self, decode_json: Callable[[bytes], object]) -> dict:
        """Read `operations` and `map`; returns the operations with an `Upload` at every path the
        map names. The body is left at the first file."""
        operations = _parse_json(await self._read_field("operations", "first"), decode_json, "operations")
        files_map = _parse_json(await self._read_field("map", "right after operations"), decode_json, "map")
        if not isinstance(operations, dict):
            raise ValidationFailed("operations 须为 JSON 对象 / `operations` must be a JSON object (one "
                                   "operation; batches are not taken)", field="operations")
        if not isinstance(files_map, dict):
            raise ValidationFailed(f"map 须为 JSON 对象 / `map` must be a JSON object ({SPEC})", field="map")
        paths_count = 0
        placed: set[str] = set()
        for name, paths in files_map.items():
            if not isinstance(paths, list) or not paths or not all(isinstance(path, str) for path in paths):
                raise ValidationFailed(f"map 中 {name!r} 须为路径列表 / map entry {name!r} must be a non-empty "
                                       "list of paths", field="map")
            paths_count += len(paths)
            if len(files_map) > self._max_files or paths_count > self._max_files:
                raise ValidationFailed(f"一次请求最多{self._max_files}个文件 / at most {self._max_files} files "
                                       "per request", field="map", limitFiles=self._max_files)
            upload = Upload(self, name, paths[0].removeprefix("variables."))
            for path in paths:
                if path in placed:
                    raise ValidationFailed(f"map 路径 {path!r} 重复 / map path {path!r} is given twice", field="map")
                placed.add(path)
                _place(operations, path, upload)
            self._uploads[name] = upload
        return operations

    async def finish(self) -> None:
        """Read the body to its end: files no resolver read are discarded, and every part is
        checked as if it had been read. Raises the body's fault, if it has one."""
        if self._finished:
            return
        self._finished = True
        await self._leave_part()
        while True:
            event, headers = await self._next_event()
            if event is _Event.END:
                break
            self._check_part(headers)
            self._in_part = True
            await self._leave_part()
        missing = [name for name in self._uploads if name not in self._seen]
        if missing:
            raise ValidationFailed(f"map 中的文件未在请求中出现 / the body lacks the file parts the map names: "
                                   f"{', '.join(repr(name) for name in missing)}", field="map")

    async def _open(self, upload: Upload) -> None:
        await self._leave_part()  # what an earlier file's reader left unread is dropped
        event, headers = await self._next_event()
        if event is _Event.END:
            raise ValidationFailed(f"请求中缺少文件 {upload.name!r} / the file part {upload.name!r} the map names "
                                   "is missing from the body", field=upload.field)
        name, filename, content_type = self._check_part(headers)
        if name != upload.name:
            raise ValidationFailed(
                f"文件须按使用顺序发送 / files must come in the order the operation reads them: the part "
                f"{upload.name!r} was read while {name!r} comes first", field=upload.field)
        upload.filename, upload.content_type = filename, content_type
        self._in_part = True

    async def _part_data(self) -> AsyncIterator[bytes]:
        while self._in_part:
            event, data = await self._next_event()
            if event is _Event.DATA:
                yield data
            else:
                self._in_part = False

    async def _leave_part(self) -> None:
        while self._in_part:
            event, _ = await self._next_event()
            if event is _Event.PART_END:
                self._in_part = False

    async def _read_field(self, name: str, where: str) -> bytes:
        event, headers = await self._next_event()
        found = None if event is _Event.END else _describe_part(headers)[0]
        if found != name:
            raise ValidationFailed(f"multipart 请求的 {name} 部分缺失或错位 / the `{name}` part must come "
                                   f"{where} ({SPEC})", field=name)
        self._seen.add(name)
        value = bytearray()
        while (event_and_data := await self._next_event())[0] is _Event.DATA:
            value += event_and_data[1]
            if len(value) > self._max_json_bytes:
                raise PayloadTooLarge(f"{name} 过大 / `{name}` is larger than {self._max_json_bytes} bytes",
                                      field=name, limitBytes=self._max_json_bytes)
        return bytes(value)

    def _check_part(self, headers: list[tuple[bytes, bytes]]) -> tuple[str, str | None, str | None]:
        name, filename, content_type = _describe_part(headers, self._uploads)
        if name in self._seen:
            raise ValidationFailed(f"multipart 部分 {name!r} 重复 / the part {name!r} appears twice", field="map")
        if name not in self._uploads:
            raise ValidationFailed(f"multipart 部分 {name!r} 不在 map 中 / the part {name!r} is not in the map",
                                   field="map")
        self._seen.add(name)
        return name, filename, content_type

    async def _next_event(self) -> tuple[_Event, Any]:
        if self._failure is not None:
            raise self._failure
        try:
            while not self._events:
                if self._complete:
                    return _Event.END, None
                await self._feed()
        except (ValidationFailed, PayloadTooLarge) as error:
            self._failure = error
            raise
        event = self._events.popleft()
        if event[0] is _Event.END:
            self._complete = True
        return event

    async def _feed(self) -> None:
        if self._offset >= len(self._chunk):
            self._chunk, self._offset = await self._read_chunk(), 0
        piece = self._chunk[self._offset:self._offset + FEED_BYTES]
        self._offset += len(piece)
        try:
            self._parser.write(piece)
        except FormParserError as error:
            raise ValidationFailed(f"multipart 请求体格式错误 / the multipart body is malformed: {error}") from error

    async def _read_chunk(self) -> bytes:
        chunk = b""
        while not chunk:
            try:
                async with asyncio.timeout(self._idle_timeout_seconds):
                    chunk = await anext(self._stream)
            except (StopAsyncIteration, ClientDisconnect):
                raise ValidationFailed("multipart 请求体不完整 / the multipart body ended before its closing "
                                       "boundary") from None
            except TimeoutError:
                raise ValidationFailed(f"请求体传输停滞 / the request body stalled: nothing arrived for "
                                       f"{self._idle_timeout_seconds:g} s") from None
            except BodyOverLimit as over:  # RequestGuard counted past the limit first
                raise over.error from None
        self._received += len(chunk)
        if self._received > self._max_bytes:
            raise PayloadTooLarge(f"请求过大 / the request is larger than {self._max_bytes} bytes",
                                  limitBytes=self._max_bytes)
        return chunk


def _boundary(content_type: str) -> bytes:
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise ValidationFailed("multipart 请求缺少 boundary / the multipart Content-Type has no boundary")
    return boundary


def _describe_part(headers: list[tuple[bytes, bytes]],
                   uploads: dict[str, Upload] | None = None) -> tuple[str, str | None, str | None]:
    """A part's name, file name and declared content type, each valid text or refused."""
    found = dict(headers)
    disposition = found.get(b"content-disposition")
    if disposition is None:
        raise ValidationFailed("multipart 部分缺少 Content-Disposition / a multipart part has no "
                               "Content-Disposition header")
    _, options = parse_options_header(disposition)
    if b"name" not in options:
        raise ValidationFailed("multipart 部分缺少名称 / a multipart part has no name")
    name = _header_text(options[b"name"], "the part name", None)
    field = uploads[name].field if uploads and name in uploads else None
    filename = options.get(b"filename")
    content_type = found.get(b"content-type")
    return (name, None if filename is None else _header_text(filename, "the file name", field),
            None if content_type is None else _header_text(content_type, "the content type", field))


def _header_text(raw: bytes, what: str, field: str | None) -> str:
    # parse_options_header hands back the header's bytes (as latin-1); clients send UTF-8.
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed(f"{what} 不是有效的 UTF-8 / {what} is not valid UTF-8", field=field) from None
    if any(ord(character) < 0x20 or ord(character) == 0x7F for character in text):
        raise ValidationFailed(f"{what} 含控制字符 / {what} contains control characters", field=field)
    return text


def _parse_json(raw: bytes, decode_json: Callable[[bytes], object], name: str) -> object:
    try:
        return decode_json(raw)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, an integer too long to convert
        raise ValidationFailed(f"{name} 不是有效的 JSON / `{name}` is not valid JSON", field=name) from None


def _place(operations: dict, path: str, upload: Upload) -> None:
    keys = path.split(".")
    if len(keys) < 2 or keys[0] != "variables":
        raise ValidationFailed(f"map 路径 {path!r} 须指向 variables / map path {path!r} must point into "
                               "`variables`", field="map")
    target: Any = operations
    for key in keys[:-1]:
        target = target[_slot(target, key, path)]
    target[_slot(target, keys[-1], path)] = upload


def _slot(container: object, key: str, path: str) -> int | str:
    """The index or key `key` names in `container`, which the operations must already have."""
    if isinstance(container, list):
        if key.isascii() and key.isdigit() and len(key) < 10 and int(key) < len(container):
            return int(key)
    elif isinstance(container, dict):
        if key in container:
            return key
    raise ValidationFailed(f"map 路径 {path!r} 在 operations 中不存在 / map path {path!r} does not lead to a "
                           "value in operations", field="map")
