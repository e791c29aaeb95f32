from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from .serializers import ErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: the error names the field (unknown fields are refused too).",
    "401": "No API key, or an unknown or revoked one.",
    "403": "Not allowed: a read-only key writing, or a customer on a staff-only route.",
    "404": "Not found, or not yours.",
    "409": "Conflicts with existing data: e.g. a username or address already taken.",
    "413": "The request body is too large.",
    "415": "The request body is not JSON.",
}


class PortalAutoSchema(AutoSchema):
    """Documents the error responses (in the one error shape) that every operation can return."""

    def _error_codes(self):
        codes = ["401", "403"]
        detail = "{" in self.path
        has_body = self.method in ("POST", "PUT", "PATCH")
        if has_body or self._is_list_view() or self.method == "GET":
            # Lists refuse bad filters and page numbers; bodies refuse bad values.
            codes.append("400")
        if detail or self._is_list_view() or self.method == "POST":
            codes.append("404")
        if has_body:
            codes += ["409", "413", "415"]
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]), code
                )
        return dict(sorted(responses.items()))


BLANK_STRING = {"type": "string", "maxLength": 0}


def blank_alternatives_use_any_of(result, generator, request, public):
    """Postprocessing hook: a blank-allowed string with a pattern is "pattern, or blank".

    drf-spectacular writes that as `oneOf`, but a pattern that matches "" makes "" match both
    branches, and `oneOf` then rejects it; `anyOf` says what is meant.
    """

    def visit(node):
        if isinstance(node, dict):
            alternatives = node.get("oneOf")
            if isinstance(alternatives, list) and BLANK_STRING in alternatives:
                node["anyOf"] = node.pop("oneOf")
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(result)
    return result
