"""Unit of work: one database transaction, its repositories, and the events it raised."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker

from sereno.adapters.db.alert_repositories import (
    AgreementRepository,
    AlertRepository,
    CapMessageRepository,
)
from sereno.adapters.db.anomaly_repositories import AnomalyRepository, ShiftRepository
from sereno.adapters.db.audit_search import AuditSearchRepository
from sereno.adapters.db.cap_repositories import CapSourceRepository
from sereno.adapters.db.evidence_repositories import EvidenceExportRepository, WatermarkRegistry
from sereno.adapters.db.governance_repositories import (
    AccessProfileRepository,
    BreakGlassRepository,
    CaseRepository,
    PeerRepository,
    PolicyRepository,
)
from sereno.adapters.db.incident_repositories import IncidentRepository, IncidentTypeRepository
from sereno.adapters.db.integration_repositories import SubscriptionRepository
from sereno.adapters.db.operation_repositories import OperationRepository
from sereno.adapters.db.outbox_repositories import InboxRepository, OutboxRepository
from sereno.adapters.db.repositories import (
    AgencyRepository,
    AuditRepository,
    CameraRepository,
    CentreRepository,
    CredentialRepository,
    DetectionRepository,
    RuleRepository,
    UserRepository,
    WatchlistRepository,
)
from sereno.adapters.db.retention_repository import RetentionRepository
from sereno.adapters.db.security_repositories import (
    BreachRepository,
    EgressDestinationRepository,
    ImpactAssessmentRepository,
    SecurityAlertRepository,
)
from sereno.adapters.db.unit_repositories import DispatchRepository, UnitRepository
from sereno.domain.events import Event


class UnitOfWork(abc.ABC):
    """Use as ``with uow: ... uow.commit()``; leaving the block without commit rolls back."""

    agencies: AgencyRepository
    centres: CentreRepository
    cameras: CameraRepository
    users: UserRepository
    credentials: CredentialRepository
    audit: AuditRepository
    rules: RuleRepository
    detections: DetectionRepository
    watchlist: WatchlistRepository
    security_alerts: SecurityAlertRepository
    policies: PolicyRepository
    access_profiles: AccessProfileRepository
    cases: CaseRepository
    break_glass: BreakGlassRepository
    peers: PeerRepository
    shifts: ShiftRepository
    anomalies: AnomalyRepository
    audit_search: AuditSearchRepository
    egress_destinations: EgressDestinationRepository
    breaches: BreachRepository
    impact_assessments: ImpactAssessmentRepository
    retention: RetentionRepository
    evidence_exports: EvidenceExportRepository
    watermarks: WatermarkRegistry
    alerts: AlertRepository
    agreements: AgreementRepository
    cap_messages: CapMessageRepository
    cap_sources: CapSourceRepository
    outbox: OutboxRepository
    inbox: InboxRepository
    subscriptions: SubscriptionRepository
    units: UnitRepository
    dispatches: DispatchRepository
    operations: OperationRepository
    incidents: IncidentRepository
    incident_types: IncidentTypeRepository

    def __init__(self) -> None:
        self._events: list[Event] = []

    def __enter__(self) -> Self:
        self._events = []
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def emit(self, event: Event) -> None:
        """Queue a domain event; the message bus handles it after the handler returns."""
        self._events.append(event)

    def collect_new_events(self) -> Iterator[Event]:
        """Hand over (and forget) the events raised since the last call."""
        while self._events:
            yield self._events.pop(0)

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...


class SqlAlchemyUnitOfWork(UnitOfWork):
    """The transaction is a SQLAlchemy session; the audit record rides in the same one."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        super().__init__()
        self.session_factory = session_factory

    def __enter__(self) -> Self:
        self.session = self.session_factory()
        self.agencies = AgencyRepository(self.session)
        self.centres = CentreRepository(self.session)
        self.cameras = CameraRepository(self.session)
        self.users = UserRepository(self.session)
        self.credentials = CredentialRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.rules = RuleRepository(self.session)
        self.detections = DetectionRepository(self.session)
        self.watchlist = WatchlistRepository(self.session)
        self.security_alerts = SecurityAlertRepository(self.session)
        self.policies = PolicyRepository(self.session)
        self.access_profiles = AccessProfileRepository(self.session)
        self.cases = CaseRepository(self.session)
        self.break_glass = BreakGlassRepository(self.session)
        self.peers = PeerRepository(self.session)
        self.shifts = ShiftRepository(self.session)
        self.anomalies = AnomalyRepository(self.session)
        self.audit_search = AuditSearchRepository(self.session)
        self.egress_destinations = EgressDestinationRepository(self.session)
        self.breaches = BreachRepository(self.session)
        self.impact_assessments = ImpactAssessmentRepository(self.session)
        self.retention = RetentionRepository(self.session)
        self.evidence_exports = EvidenceExportRepository(self.session)
        self.watermarks = WatermarkRegistry(self.session)
        self.alerts = AlertRepository(self.session)
        self.agreements = AgreementRepository(self.session)
        self.cap_messages = CapMessageRepository(self.session)
        self.cap_sources = CapSourceRepository(self.session)
        self.outbox = OutboxRepository(self.session)
        self.inbox = InboxRepository(self.session)
        self.subscriptions = SubscriptionRepository(self.session)
        self.units = UnitRepository(self.session)
        self.dispatches = DispatchRepository(self.session)
        self.operations = OperationRepository(self.session)
        self.incidents = IncidentRepository(self.session)
        self.incident_types = IncidentTypeRepository(self.session)
        return super().__enter__()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Detach first so that objects read in the block stay readable after it; the rollback
        # still undoes anything not committed in the database.
        self.session.expunge_all()
        super().__exit__(exc_type, exc, tb)
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


UnitOfWorkFactory = Callable[[], UnitOfWork]
