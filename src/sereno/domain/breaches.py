"""The breach register (Ecuador's Ley Orgánica de Protección de Datos Personales, LOPDP).

A breach case is opened when a breach of personal-data security is suspected: a blocked transfer
of media or personal data to an unregistered host, a traced leak, or an auditor's own finding. It
carries the legal deadlines from the moment of detection and the notices to produce:

- ``authority``: notice to the Superintendencia de Protección de Datos Personales within the
  *término* of five days after the controller learnt of the breach (LOPDP art. 43);
- ``data_subjects``: notice to the people concerned, without delay and within the *término* of
  three days, when the breach puts their rights and freedoms at risk (LOPDP art. 46) — here:
  when the case is marked ``high_risk``.

A *término* counts working days (Código Orgánico Administrativo; a *plazo* would count calendar
days). Sereno skips Saturdays and Sundays but knows no public holidays, so the deadline it shows
is never later than the legal one. See ``docs/governance/lopdp.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Any

from sereno.domain.errors import Conflict, InvalidInput

#: Mainland Ecuador (no daylight saving time): the days of a *término* are Ecuadorian days.
ECUADOR = timezone(timedelta(hours=-5), "ECT")
AUTHORITY_TERM_DAYS = 5   # LOPDP art. 43
SUBJECTS_TERM_DAYS = 3    # LOPDP art. 46
AUTHORITY_NAME = "Superintendencia de Protección de Datos Personales"


class BreachTrigger(StrEnum):
    EGRESS_BLOCKED = "egress_blocked"
    LEAK_TRACED = "leak_traced"
    MANUAL = "manual"


class BreachStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class NoticeKind(StrEnum):
    AUTHORITY = "authority"
    DATA_SUBJECTS = "data_subjects"


def add_working_days(moment: datetime, days: int) -> datetime:
    """The end (23:59:59 in Ecuador) of the ``days``-th working day after ``moment``'s day."""
    day: date = moment.astimezone(ECUADOR).date()
    left = days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return datetime.combine(day, time(23, 59, 59), ECUADOR).astimezone(moment.tzinfo)


@dataclass(frozen=True)
class Notice:
    """One notice's duty: when it is due and whether (when, by whom, under which reference)
    it was sent."""

    kind: NoticeKind
    due_at: datetime
    sent_at: datetime | None
    sent_by: str | None
    reference: str | None

    def overdue(self, now: datetime) -> bool:
        return self.sent_at is None and now > self.due_at


@dataclass(eq=False)
class BreachCase:
    """One suspected or confirmed breach, from detection to closure. Nothing deletes it."""

    id: str
    agency_id: str
    trigger: BreachTrigger
    description: str
    detected_at: datetime
    opened_at: datetime
    opened_by: str
    high_risk: bool
    authority_due_at: datetime
    data_classes: list[str] = field(default_factory=list)
    camera_ids: list[str] = field(default_factory=list)
    records: list[str] = field(default_factory=list)  # audit records, exports, clips involved
    detail: dict[str, Any] = field(default_factory=dict)
    status: BreachStatus = BreachStatus.OPEN
    authority_sent_at: datetime | None = None
    authority_sent_by: str | None = None
    authority_reference: str | None = None
    subjects_due_at: datetime | None = None
    subjects_sent_at: datetime | None = None
    subjects_sent_by: str | None = None
    subjects_reference: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    close_note: str | None = None

    @classmethod
    def open(cls, *, case_id: str, agency_id: str, trigger: str, description: str,
             detected_at: datetime, opened_at: datetime, opened_by: str,
             high_risk: bool | None = None, data_classes: list[str] | None = None,
             camera_ids: list[str] | None = None, records: list[str] | None = None,
             detail: dict[str, Any] | None = None) -> BreachCase:
        """A new open case with its deadlines counted from ``detected_at``.

        ``high_risk`` defaults to true for a traced leak (the data did leave) and false
        otherwise (a blocked transfer left nothing; an auditor can raise it later).
        """
        try:
            kind = BreachTrigger(trigger)
        except ValueError:
            known = ", ".join(t.value for t in BreachTrigger)
            raise InvalidInput(f"unknown breach trigger {trigger!r} (known: {known})") from None
        text = description.strip()
        if not 0 < len(text) <= 4000:
            raise InvalidInput("description must be 1 to 4000 characters")
        if detected_at > opened_at:
            raise InvalidInput("a breach cannot be detected after the case is opened")
        risky = kind is BreachTrigger.LEAK_TRACED if high_risk is None else high_risk
        case = cls(
            id=case_id, agency_id=agency_id, trigger=kind, description=text,
            detected_at=detected_at, opened_at=opened_at, opened_by=opened_by, high_risk=risky,
            authority_due_at=add_working_days(detected_at, AUTHORITY_TERM_DAYS),
            data_classes=sorted(set(data_classes or [])),
            camera_ids=sorted(set(camera_ids or [])), records=list(records or []),
            detail=dict(detail or {}))
        if risky:
            case.subjects_due_at = add_working_days(detected_at, SUBJECTS_TERM_DAYS)
        return case

    # -- the notices ---------------------------------------------------------------------------

    def notices(self) -> list[Notice]:
        """The notices this case needs (data subjects only when high risk)."""
        found = [Notice(NoticeKind.AUTHORITY, self.authority_due_at, self.authority_sent_at,
                        self.authority_sent_by, self.authority_reference)]
        if self.subjects_due_at is not None:
            found.append(Notice(NoticeKind.DATA_SUBJECTS, self.subjects_due_at,
                                self.subjects_sent_at, self.subjects_sent_by,
                                self.subjects_reference))
        return found

    def overdue(self, now: datetime) -> list[NoticeKind]:
        """The notices past their deadline and not sent (none once the case is closed)."""
        if self.status is BreachStatus.CLOSED:
            return []
        return [n.kind for n in self.notices() if n.overdue(now)]

    def mark_high_risk(self) -> None:
        """The breach puts people's rights at risk: the data subjects must be told too."""
        if not self.high_risk:
            self.high_risk = True
            self.subjects_due_at = add_working_days(self.detected_at, SUBJECTS_TERM_DAYS)

    def mark_notice_sent(self, kind: str, *, by: str, at: datetime, reference: str) -> Notice:
        """Record that a notice was sent; ``reference`` is its number or receipt."""
        try:
            which = NoticeKind(kind)
        except ValueError:
            raise InvalidInput(f"unknown notice {kind!r} (authority, data_subjects)") from None
        if self.status is BreachStatus.CLOSED:
            raise Conflict("the case is closed")
        ref = reference.strip()
        if not 0 < len(ref) <= 200:
            raise InvalidInput("reference must be 1 to 200 characters (receipt, number…)")
        if which is NoticeKind.AUTHORITY:
            if self.authority_sent_at is not None:
                raise Conflict("the notice to the authority was already sent")
            self.authority_sent_at, self.authority_sent_by = at, by
            self.authority_reference = ref
        else:
            if self.subjects_due_at is None:
                self.mark_high_risk()  # telling the people concerned means it was high risk
            if self.subjects_sent_at is not None:
                raise Conflict("the notice to the data subjects was already sent")
            self.subjects_sent_at, self.subjects_sent_by, self.subjects_reference = at, by, ref
        return next(n for n in self.notices() if n.kind is which)

    def close(self, *, by: str, at: datetime, note: str) -> None:
        """Close the case; the note says what was established (and why a notice was not
        needed, if one was not sent)."""
        if self.status is BreachStatus.CLOSED:
            raise Conflict("the case is already closed")
        text = note.strip()
        if not 0 < len(text) <= 4000:
            raise InvalidInput("closing a case needs a note (1 to 4000 characters)")
        self.status, self.closed_at, self.closed_by, self.close_note = (
            BreachStatus.CLOSED, at, by, text)

    # -- drafts ----------------------------------------------------------------------------------

    def notice_draft(self, kind: str, *, agency_name: str, language: str = "es") -> str:
        """A draft of the notice to send, from the facts of the case (Spanish by default)."""
        which = NoticeKind(kind)
        english = language == "en"
        detected = self.detected_at.astimezone(ECUADOR).strftime("%Y-%m-%d %H:%M")
        classes = ", ".join(_CLASS_NAMES["en" if english else "es"].get(c, c)
                            for c in self.data_classes) or ("not yet determined" if english
                                                            else "por determinar")
        cameras = ", ".join(self.camera_ids) or ("none identified" if english
                                                 else "ninguna identificada")
        trigger = _TRIGGER_NAMES["en" if english else "es"][self.trigger]
        if english:
            if which is NoticeKind.AUTHORITY:
                return (
                    f"To: {AUTHORITY_NAME}\n"
                    f"Subject: Notice of a personal-data security breach (LOPDP art. 43) — "
                    f"case {self.id}\n\n"
                    f"{agency_name}, as controller, reports a security breach of personal data "
                    f"detected on {detected} (Ecuador time).\n\n"
                    f"How it was detected: {trigger}.\n"
                    f"What happened: {self.description}\n"
                    f"Categories of data concerned: {classes}.\n"
                    f"Cameras concerned: {cameras}.\n"
                    f"Risk to the people concerned: {'high' if self.high_risk else 'not high'}"
                    f".\n"
                    f"Measures taken: [describe containment, investigation, and prevention].\n"
                    f"Contact (data protection officer): [name, e-mail, telephone].\n")
            return (
                f"Subject: Notice about your personal data — case {self.id}\n\n"
                f"On {detected} (Ecuador time) {agency_name} detected a security breach that "
                f"may concern your personal data ({classes}), captured by cameras {cameras}.\n"
                f"What happened: {self.description}\n"
                f"What we are doing: [measures taken].\n"
                f"What you can do: [recommendations].\n"
                f"Contact: [data protection officer, e-mail, telephone].\n")
        if which is NoticeKind.AUTHORITY:
            return (
                f"Para: {AUTHORITY_NAME}\n"
                f"Asunto: Notificación de vulneración de seguridad de datos personales "
                f"(art. 43 LOPDP) — caso {self.id}\n\n"
                f"{agency_name}, en calidad de responsable del tratamiento, notifica una "
                f"vulneración de la seguridad de datos personales detectada el {detected} "
                f"(hora de Ecuador).\n\n"
                f"Forma de detección: {trigger}.\n"
                f"Descripción de los hechos: {self.description}\n"
                f"Categorías de datos afectados: {classes}.\n"
                f"Cámaras afectadas: {cameras}.\n"
                f"Riesgo para los titulares: {'alto' if self.high_risk else 'no alto'}.\n"
                f"Medidas adoptadas: [describa contención, investigación y prevención].\n"
                f"Contacto (delegado de protección de datos): [nombre, correo, teléfono].\n")
        return (
            f"Asunto: Aviso sobre sus datos personales — caso {self.id}\n\n"
            f"El {detected} (hora de Ecuador) {agency_name} detectó una vulneración de "
            f"seguridad que puede afectar a sus datos personales ({classes}), captados por las "
            f"cámaras {cameras}.\n"
            f"Qué ocurrió: {self.description}\n"
            f"Qué estamos haciendo: [medidas adoptadas].\n"
            f"Qué puede hacer usted: [recomendaciones].\n"
            f"Contacto: [delegado de protección de datos, correo, teléfono].\n")


_CLASS_NAMES = {
    "es": {"media": "imágenes y video", "personal_data": "datos personales (placas, rostros, "
           "trayectorias)", "operational": "datos operativos", "none": "ninguno"},
    "en": {"media": "images and video", "personal_data": "personal data (plates, faces, "
           "tracks)", "operational": "operational data", "none": "none"},
}
_TRIGGER_NAMES = {
    "es": {BreachTrigger.EGRESS_BLOCKED: "envío bloqueado hacia un destino no registrado",
           BreachTrigger.LEAK_TRACED: "filtración rastreada hasta su origen",
           BreachTrigger.MANUAL: "reporte registrado por un auditor"},
    "en": {BreachTrigger.EGRESS_BLOCKED: "blocked transfer to an unregistered destination",
           BreachTrigger.LEAK_TRACED: "leak traced back to its source",
           BreachTrigger.MANUAL: "report recorded by an auditor"},
}
