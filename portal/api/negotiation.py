from django.http import Http404
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation


class JsonOnlyNegotiation(DefaultContentNegotiation):
    """Answer in the view's first format (JSON for the API) when the client asks for another.

    A 406 for `Accept: text/html` would help no integrator, and errors must reach them in the
    one JSON shape. Views with several formats (the schema: YAML or JSON) still honour
    `Accept` and `?format=`.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except (NotAcceptable, Http404):
            return renderers[0], renderers[0].media_type
