from django import template

from auth_config.forms import PROTOCOL_EXPLANATIONS

register = template.Library()


@register.simple_tag
def query_with(params, key, value):
    """The current query string with one parameter replaced, e.g. another page number."""
    query = params.copy()
    query[key] = value
    return "?" + query.urlencode()


@register.filter
def audit_value(value):
    """An audit log value as a person reads it: an empty or missing value is a dash."""
    if value in (None, "", "None", "[]"):
        return "—"
    return {"True": "yes", "False": "no"}.get(value, value)


@register.filter
def protocol_explanation(value):
    return PROTOCOL_EXPLANATIONS.get(value, "")
