"""Where the export's files live: a local folder, or any store fsspec knows by URL
(`gs://bucket/prefix`, `memory://...` in tests, `s3://...` with its package installed).

A local folder (or a `file://` URL) stays a `pathlib.Path`, and everything written there takes
the same code path as before: no fsspec, no extra cost. Anything else is a `RemotePath`, which
offers the few `Path` methods the export uses, answered by the store. What makes a file appear
only complete is in fsutil.py: rename where the store has it, one upload where it is an object
store (a Cloud Storage object exists only once its upload has finished).

The store's options (`export.storage_options`, e.g. gcsfs's `token: /path/key.json`; without
one, Google's application default credentials) travel to the workers inside a `StoreSpec`,
whose repr hides them. fsspec and gcsfs are imported on first use of a URL only.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeAlias

from exporter.errors import ERR_OUTPUT_UNREACHABLE, ExporterError, error

Option: TypeAlias = str | int | float | bool | None

OBJECT_STORES = frozenset({"gs", "gcs", "s3", "s3a", "az", "abfs", "abfss"})
"""Protocols whose objects appear only whole, when their upload ends, and have no rename:
a file is uploaded in one put. Any other store gets a temp name and a move."""
CLOUD_STORAGE = frozenset({"gs", "gcs"})
"""Google Cloud Storage: what `bq load` reads from."""
KEY = "export.output_dir"
CREDENTIALS_KEY = "export.storage_options.token"
_CREDENTIALS_HINT = (
    "set GOOGLE_APPLICATION_CREDENTIALS or run `gcloud auth application-default login` on "
    "every machine of the run, or name a key file in export.storage_options.token"
)


@dataclass(frozen=True)
class StoreSpec:
    """An output root as plain, picklable data: the folder or URL, and the store's options."""

    root: str
    options: tuple[tuple[str, Option], ...] = ()

    @property
    def is_local(self) -> bool:
        """True for a folder on this machine's file system (a plain path or `file://`)."""
        return "://" not in self.root or self.root.startswith("file://")

    def open(self) -> StorePath:
        """The root as a `Path` (local) or a `RemotePath` on its opened store."""
        if self.is_local:
            return Path(self.root.removeprefix("file://"))
        from fsspec.core import strip_protocol  # type: ignore[import-untyped]

        protocol = self.root.split("://", 1)[0]
        fs = _filesystem(protocol, dict(self.options), self.root)
        return RemotePath(fs, str(strip_protocol(self.root)).rstrip("/"))

    def __repr__(self) -> str:  # options may name credentials: never shown in logs
        return f"StoreSpec({self.root!r}, options={'<hidden>' if self.options else '{}'})"


class FileStat(NamedTuple):
    """The two figures of a file that resume and proofs look at."""

    st_size: int
    st_mtime_ns: int
    """For an object store, the object's generation where it has one (it changes on every
    write), else its modification time."""


class RemotePath:
    """A file or folder in an fsspec store: the subset of `pathlib.Path` the export uses."""

    __slots__ = ("fs", "path")

    def __init__(self, fs: Any, path: str) -> None:
        self.fs = fs
        self.path = path

    @property
    def protocol(self) -> str:
        """The store's protocol, e.g. "gs"."""
        found = self.fs.protocol
        return str(found if isinstance(found, str) else found[0])

    @property
    def is_object_store(self) -> bool:
        """True where a file is written by one upload, without a rename (OBJECT_STORES)."""
        return self.protocol in OBJECT_STORES

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def parent(self) -> RemotePath:
        return type(self)(self.fs, self.path.rsplit("/", 1)[0] if "/" in self.path else "")

    def __truediv__(self, name: str) -> RemotePath:
        return type(self)(self.fs, f"{self.path}/{name}" if self.path else name)

    def with_name(self, name: str) -> RemotePath:
        return self.parent / name

    def __str__(self) -> str:
        return str(self.fs.unstrip_protocol(self.path))

    def __repr__(self) -> str:
        return f"RemotePath({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RemotePath) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def exists(self) -> bool:
        return bool(_store_call(self.fs.exists, self.path))

    def is_dir(self) -> bool:
        return bool(_store_call(self.fs.isdir, self.path))

    def iterdir(self) -> Iterator[RemotePath]:
        for entry in _store_call(self.fs.ls, self.path, detail=False):
            yield RemotePath(self.fs, str(entry).rstrip("/"))

    def stat(self) -> FileStat:
        return _file_stat(_store_call(self.fs.info, self.path))

    def read_bytes(self) -> bytes:
        return bytes(_store_call(self.fs.cat_file, self.path))

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)

    def open_read(self) -> IO[bytes]:
        """A buffered reader of the file (a chunk is read back in blocks, never whole)."""
        return _store_call(self.fs.open, self.path, "rb")  # type: ignore[no-any-return]

    def write_bytes(self, data: bytes) -> None:
        """Store `data` under this name in one request (an object appears whole)."""
        _store_call(self.fs.pipe_file, self.path, data)

    def upload(self, local: Path) -> None:
        """Store a finished local file under this name (one put: an object appears whole)."""
        _store_call(self.fs.put_file, str(local), self.path)

    def move_to(self, target: RemotePath) -> None:
        """Rename within the store (stores with rename: the last step of a publish)."""
        _store_call(self.fs.mv, self.path, target.path)

    def unlink(self, missing_ok: bool = False) -> None:
        try:
            _store_call(self.fs.rm_file, self.path)
        except FileNotFoundError:
            if not missing_ok:
                raise

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        """Folders exist only by the objects in them, in an object store."""
        if not self.is_object_store:
            _store_call(self.fs.makedirs, self.path, exist_ok=True)


StorePath: TypeAlias = Path | RemotePath
"""A file or folder of the output: local, or in a store."""


def list_names(folder: StorePath) -> list[str]:
    """The names in `folder` (files and folders); empty when it does not exist."""
    try:
        if isinstance(folder, Path):
            return os.listdir(folder)
        return [entry.name for entry in folder.iterdir()]
    except (FileNotFoundError, NotADirectoryError):
        return []


def open_read(path: StorePath) -> IO[bytes]:
    """`path` opened for reading bytes."""
    return open(path, "rb") if isinstance(path, Path) else path.open_read()


def cloud_storage_url(path: StorePath) -> str | None:
    """`gs://bucket/...` for a path in Cloud Storage, else None."""
    if isinstance(path, RemotePath) and path.protocol in CLOUD_STORAGE:
        return f"gs://{path.path}"
    return None


def _file_stat(info: dict[str, Any]) -> FileStat:
    """Size and a version stamp from a store's file info: Cloud Storage's generation, else
    the first modification time the store gives (a datetime, seconds, or an opaque tag)."""
    stamp = next((info[f] for f in _VERSION_FIELDS if info.get(f) is not None), 0)
    if hasattr(stamp, "timestamp"):  # a datetime
        stamp = stamp.timestamp()
    if isinstance(stamp, float):
        stamp = round(stamp * 1_000_000) * 1000
    elif isinstance(stamp, str) and not stamp.isdigit():  # an ETag: compared, never read
        stamp = int.from_bytes(hashlib.sha256(stamp.encode()).digest()[:7], "big")
    return FileStat(int(info.get("size") or 0), int(stamp or 0))


_VERSION_FIELDS = ("generation", "mtime", "LastModified", "last_modified", "created", "ETag")


def _store_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call the store. Its own failures (HTTP errors, timeouts) become OSError, as a local
    disk's would, so that the export reports them as output errors (EXP-3001) and never as
    the database's. A missing file stays FileNotFoundError."""
    try:
        return fn(*args, **kwargs)
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001 - any store's own error types
        raise OSError(f"{type(exc).__name__}: {exc}"[:300]) from exc


def _filesystem(protocol: str, options: dict[str, Any], url: str) -> Any:
    """The fsspec file system for `protocol`; a store that cannot be opened (unknown
    protocol, its package missing, a key file that is not there) is one ConfigError."""
    import fsspec  # type: ignore[import-untyped]

    # Other processes add files all the time: never answer from a stale cached listing.
    settings = {"use_listings_cache": False, **options}
    if protocol in CLOUD_STORAGE:
        return _cloud_storage(settings, url)
    try:
        return fsspec.filesystem(protocol, **settings)
    except (ImportError, ValueError) as exc:
        raise _unusable(KEY, url, str(exc), "use a local folder or a URL fsspec knows") from None


def _cloud_storage(settings: dict[str, Any], url: str) -> Any:
    import fsspec

    token = settings.get("token")
    if isinstance(token, str) and token.lstrip().startswith("{"):  # never echoed
        raise _unusable(CREDENTIALS_KEY, url, "holds a key itself", "name the key file instead")
    if isinstance(token, str) and token not in _GCSFS_METHODS and not os.path.isfile(token):
        raise _unusable(CREDENTIALS_KEY, url, f"key file {token} not found", "check the path")
    emulated = settings.get("endpoint_url") or os.environ.get("STORAGE_EMULATOR_HOST")
    try:
        if emulated:
            # An emulator speaks only the JSON API; gcsfs's optional gRPC features (zonal
            # and hierarchical buckets, on by default) would wait on it forever.
            from gcsfs.core import GCSFileSystem  # type: ignore[import-untyped]

            fs = GCSFileSystem(**settings)
        else:
            fs = fsspec.filesystem("gs", **settings)
    except Exception as exc:  # noqa: BLE001 - google-auth's errors: a bad key file
        raise _unusable(CREDENTIALS_KEY, url, _reason(exc), _CREDENTIALS_HINT) from None
    if not emulated and token is None and fs.credentials.method == "anon":
        # gcsfs falls back to anonymous access when it finds no credentials; every write
        # would then be refused, one chunk at a time.
        raise _unusable(CREDENTIALS_KEY, url, "no Google credentials found", _CREDENTIALS_HINT)
    return fs


_GCSFS_METHODS = frozenset({"google_default", "cache", "cloud", "anon", "browser"})


def check_writable(probe: StorePath) -> None:
    """For an output in a store: that it can be written and cleared, proved by writing and
    deleting the small object `probe` (ExportLayout.write_probe), so that a missing bucket or
    refused credentials are one line before any work. (A local folder is checked by the
    export's first write, as before.)"""
    if isinstance(probe, Path):
        return
    root = probe.parent
    try:
        probe.write_bytes(b"")
        probe.unlink(missing_ok=True)
    except FileNotFoundError:
        bucket = root.path.split("/", 1)[0]
        raise _unusable(
            KEY, str(root), f"{bucket} does not exist", "create it, or fix export.output_dir"
        ) from None
    except OSError as exc:
        hint = "check that these credentials may create and delete objects there"
        raise _unusable(KEY, str(root), _reason(exc), hint) from None


def _reason(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:200]


def _unusable(key: str, url: str, reason: str, hint: str) -> ExporterError:
    return error(ERR_OUTPUT_UNREACHABLE, key=key, url=url, reason=reason, hint=hint)
