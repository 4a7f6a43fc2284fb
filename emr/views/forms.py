"""Forms of the EMR pages. They only shape input; the services validate and write."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from emr.models import ClinicalNote, NoteDiagnosis, Patient


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: field errors inline, the rest above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class PatientRegistrationForm(forms.Form):
    family_name = forms.CharField(label=_("Family name"), max_length=100)
    given_name = forms.CharField(label=_("Given name"), max_length=100)
    sex = forms.ChoiceField(label=_("Sex"), choices=[("", "—"), *Patient.Sex.choices])
    birth_date = forms.DateField(label=_("Birth date"), widget=forms.DateInput(attrs={"type": "date"}))
    phone = forms.CharField(
        label=_("Phone"), max_length=40, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )
    national_id = forms.CharField(label=_("National ID number"), max_length=40, required=False)
    insurance_number = forms.CharField(label=_("Insurance number"), max_length=60, required=False)
    address = forms.CharField(
        label=_("Address"), max_length=400, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    allergy_status = forms.ChoiceField(
        label=_("Allergy status"),
        choices=Patient.AllergyStatus.choices,
        initial=Patient.AllergyStatus.UNKNOWN,
        help_text=_("“Unknown (not asked)” is not the same as “No known allergies”: choose what the patient said."),
    )
    start_encounter = forms.ChoiceField(
        label=_("Start a visit now"),
        required=False,
        initial="outpatient",
        choices=[
            ("outpatient", _("Outpatient visit, with me as the attending clinician")),
            ("emergency", _("Emergency visit, with me as the attending clinician")),
            ("", _("No visit now")),
        ],
        help_text=_("A clinician opens the chart of the patients they treat; the visit makes you the attending."),
    )
    # Set by the "register anyway" button once the user has looked at the likely duplicates.
    not_duplicate = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, clinician: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not clinician:
            # Records archivists register patients but never attend them.
            del self.fields["start_encounter"]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "family_name": data["family_name"],
            "given_name": data["given_name"],
            "sex": data["sex"],
            "birth_date": data["birth_date"],
            "allergy_status": data["allergy_status"],
            "phone": data["phone"] or None,
            "national_id": data["national_id"] or None,
            "insurance_number": data["insurance_number"] or None,
            "address": data["address"] or None,
        }


class VitalSignsForm(forms.Form):
    """One set of vital signs; every reading is optional, at least one is needed (checked by the service)."""

    heart_rate = forms.DecimalField(label=_("Heart rate (/min)"), required=False, max_digits=6, decimal_places=1)
    systolic_bp = forms.DecimalField(label=_("Systolic BP (mmHg)"), required=False, max_digits=6, decimal_places=1)
    diastolic_bp = forms.DecimalField(label=_("Diastolic BP (mmHg)"), required=False, max_digits=6, decimal_places=1)
    respiratory_rate = forms.DecimalField(
        label=_("Respiratory rate (/min)"), required=False, max_digits=6, decimal_places=1
    )
    spo2 = forms.DecimalField(label=_("SpO2 (%)"), required=False, max_digits=6, decimal_places=1)
    temperature = forms.DecimalField(label=_("Temperature (°C)"), required=False, max_digits=5, decimal_places=1)
    consciousness = forms.ChoiceField(
        label=_("Consciousness (AVPU)"),
        required=False,
        choices=[
            ("", "—"),
            ("A", _("A – alert")),
            ("C", _("C – new confusion")),
            ("V", _("V – responds to voice")),
            ("P", _("P – responds to pain")),
            ("U", _("U – unresponsive")),
        ],
    )
    supplemental_oxygen = forms.NullBooleanField(
        label=_("Supplemental oxygen"),
        required=False,
        widget=forms.Select(choices=[("unknown", "—"), ("false", _("No (room air)")), ("true", _("Yes"))]),
    )

    NUMERIC = ("heart_rate", "systolic_bp", "diastolic_bp", "respiratory_rate", "spo2", "temperature")

    def readings(self) -> dict:
        """The readings that were entered, keyed by vital-sign code."""
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


class NoteForm(forms.Form):
    note_type = forms.ChoiceField(label=_("Type"), choices=ClinicalNote.NoteType.choices)
    chief_complaint = forms.CharField(
        label=_("Chief complaint"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    history_present_illness = forms.CharField(
        label=_("History of present illness"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    past_history = forms.CharField(label=_("Past history"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    current_medications = forms.CharField(
        label=_("Current medications"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    allergies = forms.CharField(label=_("Allergies"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    examination = forms.CharField(label=_("Examination"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    assessment = forms.CharField(label=_("Assessment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    plan = forms.CharField(label=_("Plan"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    amendment_reason = forms.CharField(
        label=_("Reason for the amendment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    TEXT_FIELDS = ClinicalNote.TEXT_FIELDS


def diagnoses_from_post(data) -> list[dict]:
    """The chosen ICD-10 chips of the note editor: parallel lists dx_code / dx_certainty, in rank order."""
    codes = data.getlist("dx_code")
    certainties = data.getlist("dx_certainty")
    valid = set(NoteDiagnosis.Certainty.values)
    chosen, seen = [], set()
    for index, code in enumerate(codes):
        code = code.strip()
        if not code or code in seen:
            continue
        seen.add(code)
        certainty = certainties[index] if index < len(certainties) else NoteDiagnosis.Certainty.CONFIRMED
        if certainty not in valid:
            certainty = NoteDiagnosis.Certainty.CONFIRMED
        chosen.append({"code": code, "certainty": certainty})
    return chosen


class AmendForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the amendment"), widget=forms.Textarea(attrs={"rows": 2}))
