import io

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from .errors import PayloadTooLarge


class LimitedJSONParser(JSONParser):
    """JSON bodies up to API_MAX_BODY_BYTES.

    DRF reads the request stream itself, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE check, so
    the limit is enforced here: on the declared length, and on what is actually read.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        too_large = PayloadTooLarge(f"The request body may be at most {limit} bytes.")
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise too_large
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise too_large
        try:
            return super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            # Deeply nested arrays exhaust the decoder's stack; it is still just bad JSON.
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
