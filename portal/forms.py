from django import forms

from .models import ApiKey


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "read_only"]
        widgets = {"name": forms.TextInput(attrs={"placeholder": "e.g. provisioning system"})}
