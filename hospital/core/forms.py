"""Forms of the core app's pages: sign-in and the TOTP second factor."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from hospital.core.selectors.authentication import user_is_integration_client


class SignInForm(AuthenticationForm):
    """Username and password. Integration clients are refused: they use the API with a token, never a session."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "integration_client": _(
            "This account belongs to a connected system and can only use the API with a token. "
            "It cannot sign in to the web pages."
        ),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autocapitalize": "none"})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if user_is_integration_client(user=user):
            raise forms.ValidationError(self.error_messages["integration_client"], code="integration_client")


class OtpTokenForm(forms.Form):
    """The 6-digit code an authenticator app shows."""

    token = forms.CharField(
        label=_("6-digit code"),
        max_length=7,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "7", "autofocus": True}
        ),
    )

    def clean_token(self):
        # Apps show the code as "123 456"; people type the space.
        token = self.cleaned_data["token"].replace(" ", "")
        if not (len(token) == 6 and token.isascii() and token.isdigit()):
            raise forms.ValidationError(_("Enter the 6 digits your authenticator app shows."), code="invalid")
        return token
