from django import forms


class SwitchNodeForm(forms.Form):
    name = forms.CharField(max_length=64, help_text="A short name, e.g. sw1.")
    rpc_url = forms.CharField(
        label="JSON-RPC URL",
        max_length=200,
        help_text="Kamailio's JSON-RPC over HTTP, e.g. http://127.0.0.1:5071/RPC. Keep it on a "
        "private network: Kamailio offers no authentication there.",
    )
