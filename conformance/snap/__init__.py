"""The SNAP-BI protocol as pure functions and tables: the one protocol truth.

Both the client (what the merchant side sends) and the embedded sandbox (what DANA answers)
import from here; nothing in this package performs network I/O.
"""

from conformance.snap.apis import API, APIS, api_by_path, get_api
from conformance.snap.codes import ResponseCode, lookup_code, response_code
from conformance.snap.keys import (
    KeyFormatError,
    generate_private_key,
    load_private_key,
    load_private_key_file,
    load_public_key,
    load_public_key_file,
    private_key_pem,
    public_key_pem,
)
from conformance.snap.signature import (
    apply_token_string_to_sign,
    body_sha256_hex,
    minify,
    sign,
    string_to_sign,
    verify,
)
from conformance.snap.timestamps import JAKARTA, format_timestamp, parse_timestamp

__all__ = [
    "API", "APIS", "api_by_path", "get_api",
    "ResponseCode", "lookup_code", "response_code",
    "KeyFormatError", "generate_private_key", "load_private_key", "load_private_key_file",
    "load_public_key", "load_public_key_file", "private_key_pem", "public_key_pem",
    "apply_token_string_to_sign", "body_sha256_hex", "minify", "sign", "string_to_sign", "verify",
    "JAKARTA", "format_timestamp", "parse_timestamp",
]
