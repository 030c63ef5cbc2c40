"""Checking and describing an uploaded dataset file before anything is kept.

Plain Python, no Django: the registry's services call `ingest()` on the upload's temporary file,
store the file and the returned facts in one transaction if it passes, and turn IngestRejected
into a form or API field error if it does not. `registry.ingest.readers` loads a stored version's
samples back (imported separately: it pulls in librosa, which most requests never need).

    result = ingest(path, modality="image", original_name="digits.zip")
    result.sha256, result.n_samples, result.schema, result.manifest
"""

from registry.ingest.errors import IngestRejected
from registry.ingest.hashing import manifest_sha256
from registry.ingest.ingest import ingest
from registry.ingest.limits import IngestLimits
from registry.ingest.result import IngestResult

__all__ = ["IngestLimits", "IngestRejected", "IngestResult", "ingest", "manifest_sha256"]
