"""Supabase Storage, through supabase-py's storage client (storage3), with the
service role key: the backend's own uploads and signed download URLs.

Errors:

    StorageError          the Storage API refused, failed or could not be reached
"""

from dataclasses import dataclass

import httpx
from storage3 import SyncStorageClient
from storage3.utils import StorageException

from shared.config import Settings

TIMEOUT_S = 30.0


class StorageError(Exception):
    """Supabase Storage refused, failed or could not be reached."""


class StorageNotConfigured(StorageError):
    """SUPABASE_URL or SUPABASE_SERVICE_ROLE_KEY is missing."""


@dataclass(frozen=True, slots=True)
class SupabaseStorage:
    """One bucket of the project's Storage, as the service role."""

    url: str
    """Storage API base, `<SUPABASE_URL>/storage/v1/`."""
    service_key: str
    bucket: str

    @classmethod
    def from_settings(cls, settings: Settings) -> "SupabaseStorage":
        if not settings.supabase_url or settings.supabase_service_role_key is None:
            raise StorageNotConfigured(
                "SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY must be set for file storage"
            )
        key = settings.supabase_service_role_key.get_secret_value()
        if not key:
            raise StorageNotConfigured("SUPABASE_SERVICE_ROLE_KEY is empty")
        base = settings.supabase_url.rstrip("/") + "/storage/v1/"
        return cls(base, key, settings.exports_bucket)

    def upload_and_sign(self, path: str, data: bytes, content_type: str, ttl_s: int) -> str:
        """Upload `data` to `path` (never overwriting) and return a signed download URL."""
        headers = {"apikey": self.service_key, "Authorization": f"Bearer {self.service_key}"}
        try:
            with httpx.Client(timeout=TIMEOUT_S) as http:
                bucket = SyncStorageClient(self.url, headers, http_client=http).from_(self.bucket)
                bucket.upload(path, data, {"content-type": content_type, "upsert": "false"})
                signed = bucket.create_signed_url(path, ttl_s, {"download": True})
        except (StorageException, httpx.HTTPError, ValueError) as exc:
            raise StorageError(f"{type(exc).__name__}: {exc}"[:300]) from exc
        url = signed.get("signedURL")
        if not url:
            raise StorageError("Storage returned no signed URL")
        return url
