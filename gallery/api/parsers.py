"""A JSON parser on orjson: metric batches of 10,000 points parse several times faster."""

from __future__ import annotations

import re

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

NON_FINITE = re.compile(rb"-?(?:NaN|Infinity|inf|nan)")


class FastJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        if stream is None:
            raise ParseError("The request body is empty; send a JSON object.")
        body = stream.read()
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as error:
            # Python's json.dumps writes NaN and Infinity, which JSON does not have: say so.
            token = NON_FINITE.match(body, error.pos) if isinstance(body, bytes) else None
            if token is not None:
                raise ParseError(
                    f"JSON parse error - {token.group().decode()} at character {error.pos} is "
                    "not a JSON number: NaN and infinite values are not allowed; send a finite "
                    "number"
                ) from None
            raise ParseError(f"JSON parse error - {error}") from None
