from rest_framework.negotiation import BaseContentNegotiation


class JsonOnlyNegotiation(BaseContentNegotiation):
    """The API speaks JSON only: answer in JSON whatever the Accept header asks for.

    A 406 for `Accept: text/html` would help no integrator, and errors must reach them in the
    one JSON shape.
    """

    def select_parser(self, request, parsers):
        for parser in parsers:
            if request.content_type.split(";")[0].strip().lower() == parser.media_type:
                return parser
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
