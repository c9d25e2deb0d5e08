"""TenantScopedModel: rows belong to a tenant; with a current tenant, only its rows exist."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _

from django_trackable.context import get_current_tenant
from django_trackable.managers import DeletedRows, LifecycleManager, LifecycleQuerySet
from django_trackable.models.lifecycle import _LifecycleModel

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["MissingTenant", "TenantMismatch", "TenantQuerySet", "TenantScopedModel"]

_M = TypeVar("_M", bound=models.Model)


class TenantMismatch(PermissionDenied):
    """A read or write of another tenant's row while a tenant is current (a 403 in views)."""


class MissingTenant(ValueError):
    """A new tenant-scoped row has no tenant, and no tenant is current."""


def tenant_model_field(model: type[models.Model]) -> models.Field[Any, Any]:
    """The field named by ``model.tenant_field``."""
    field = model._meta.get_field(model.tenant_field)  # type: ignore[attr-defined]
    return field  # type: ignore[return-value]


def tenant_key(model: type[models.Model], tenant: Any) -> Any:
    """``tenant`` (an instance or a key) as the model's tenant column stores it."""
    field: Any = tenant_model_field(model)
    target = field.target_field if field.is_relation else field
    return target.to_python(tenant.pk if isinstance(tenant, models.Model) else tenant)


def _refuse(model: type[models.Model], pk: Any, row_tenant: Any, current: Any) -> TenantMismatch:
    return TenantMismatch(
        f"{model._meta.label} {pk} belongs to tenant {row_tenant!r}, "
        f"not to the current tenant {current!r}"
    )


class TenantQuerySet(LifecycleQuerySet[_M]):
    """``for_tenant()``, and bulk writes that keep to the current tenant."""

    _lifecycle_priority = 10

    def _lifecycle_scope(self, deleted: DeletedRows) -> Self:
        queryset = super()._lifecycle_scope(deleted)
        tenant = get_current_tenant()
        if tenant is None:
            return queryset
        field = tenant_model_field(self.model)
        return cast("Self", queryset.filter(**{field.attname: tenant_key(self.model, tenant)}))

    def for_tenant(self, tenant: Any) -> Self:
        """Rows of ``tenant``; :class:`TenantMismatch` if another tenant is current."""
        key = tenant_key(self.model, tenant)
        current = get_current_tenant()
        if current is not None and tenant_key(self.model, current) != key:
            raise TenantMismatch(
                f"{self.model._meta.label}: cannot read tenant {key!r} while "
                f"tenant {tenant_key(self.model, current)!r} is current"
            )
        return cast("Self", self.filter(**{tenant_model_field(self.model).attname: key}))

    def update(self, **kwargs: Any) -> int:
        """``update()``; moving rows to another tenant than the current one is refused."""
        current = get_current_tenant()
        if current is not None:
            field = tenant_model_field(self.model)
            for name in (field.name, field.attname):
                if name in kwargs and not hasattr(kwargs[name], "resolve_expression"):
                    if tenant_key(self.model, kwargs[name]) != tenant_key(self.model, current):
                        raise TenantMismatch(
                            f"{self.model._meta.label}: cannot move rows to tenant "
                            f"{tenant_key(self.model, kwargs[name])!r} while tenant "
                            f"{tenant_key(self.model, current)!r} is current"
                        )
                elif name in kwargs:
                    raise TenantMismatch(
                        f"{self.model._meta.label}: cannot set the tenant with an "
                        "expression while a tenant is current"
                    )
        return super().update(**kwargs)

    update.alters_data = True  # type: ignore[attr-defined]

    def bulk_create(self, objs: Iterable[_M], *args: Any, **kwargs: Any) -> list[_M]:
        """``bulk_create()``, filling each object's tenant from the context (or refusing)."""
        objs = list(objs)
        for obj in objs:
            obj._fill_tenant()  # type: ignore[attr-defined]
        return super().bulk_create(objs, *args, **kwargs)

    bulk_create.alters_data = True  # type: ignore[attr-defined]

    def bulk_update(
        self, objs: Iterable[_M], fields: Iterable[str], batch_size: int | None = None
    ) -> int:
        """``bulk_update()``, refused if any object belongs to another tenant."""
        objs = list(objs)
        for obj in objs:
            obj._lifecycle_check_write()  # type: ignore[attr-defined]
        return super().bulk_update(objs, fields, batch_size=batch_size)

    bulk_update.alters_data = True  # type: ignore[attr-defined]


class TenantScopedModel(_LifecycleModel):
    """Rows that belong to a tenant, kept apart whenever a tenant is current.

    The tenant is a ``tenant_id`` column (text, indexed), or the field named
    by the ``tenant_field`` class attribute (e.g. a foreign key to your own
    ``Tenant`` model; set ``tenant_id = None`` to drop the default column).
    When a tenant is current (``acting_as(user, tenant=...)``, or the
    ``TENANT_RESOLVER`` setting during a request):

    - every manager (and reverse related manager) shows only its rows, and
      ``for_tenant()`` refuses any other tenant;
    - new rows get it (``save()``, ``create()``, ``bulk_create()``); saving,
      deleting, transitioning, ... a row of another tenant raises
      :class:`TenantMismatch`, and so does loading one through Django's base
      manager (a foreign key pointing across tenants);
    - ``update()`` and ``delete()`` only reach its rows.

    Without a current tenant nothing is filtered, and a new row must be given
    its tenant explicitly (else :class:`MissingTenant`).
    """

    tenant_id = models.CharField(_("tenant"), max_length=64, db_index=True, editable=False)

    objects: ClassVar[LifecycleManager] = LifecycleManager()

    tenant_field: ClassVar[str] = "tenant_id"

    _lifecycle_queryset: ClassVar[type[Any]] = TenantQuerySet

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any, **kwargs: Any) -> Any:
        instance = super().from_db(db, field_names, values, **kwargs)
        current = get_current_tenant()
        if current is not None:
            attname = tenant_model_field(cls).attname
            if attname in instance.__dict__:
                row = tenant_key(cls, instance.__dict__[attname])
                if row != tenant_key(cls, current):
                    raise _refuse(cls, instance.pk, row, tenant_key(cls, current))
        return instance

    def save_base(
        self,
        raw: bool = False,
        force_insert: Any = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Any = None,
    ) -> None:
        if not raw:
            if self._state.adding:
                self._fill_tenant()
            else:
                self._lifecycle_check_write()
        super().save_base(raw, force_insert, force_update, using, update_fields)

    save_base.alters_data = True  # type: ignore[attr-defined]

    def _do_update(self, base_qs: Any, *args: Any, **kwargs: Any) -> Any:
        # The row in the database may belong to another tenant than this
        # instance says (built by hand with its primary key): never update it.
        current = get_current_tenant()
        if current is None:
            return super()._do_update(base_qs, *args, **kwargs)
        model = type(self)
        attname = tenant_model_field(model).attname
        scoped = base_qs.filter(**{attname: tenant_key(model, current)})
        updated = super()._do_update(scoped, *args, **kwargs)
        if not updated:
            row = base_qs.filter(pk=self.pk).values_list(attname, flat=True).first()
            if row is not None:
                raise _refuse(model, self.pk, row, tenant_key(model, current))
        return updated

    def _lifecycle_check_write(self) -> None:
        super()._lifecycle_check_write()
        current = get_current_tenant()
        if current is None:
            return
        model = type(self)
        value = getattr(self, tenant_model_field(model).attname)
        row = tenant_key(model, value) if value not in (None, "") else value
        if row != tenant_key(model, current):
            raise _refuse(model, self.pk, row, tenant_key(model, current))

    def _lifecycle_row_filter(self) -> dict[str, Any]:
        lookups = super()._lifecycle_row_filter()
        current = get_current_tenant()
        if current is not None:  # never write another tenant's row, whatever the instance says
            model = type(self)
            lookups[tenant_model_field(model).attname] = tenant_key(model, current)
        return lookups

    def _fill_tenant(self) -> None:
        """Give a new row the current tenant; refuse another tenant or none at all."""
        model = type(self)
        attname = tenant_model_field(model).attname
        value = getattr(self, attname)
        current = get_current_tenant()
        if value in (None, ""):
            if current is None:
                raise MissingTenant(
                    f"{model._meta.label} needs a tenant: set {attname} or use "
                    "acting_as(user, tenant=...)"
                )
            setattr(self, attname, tenant_key(model, current))
        elif current is not None and tenant_key(model, value) != tenant_key(model, current):
            raise _refuse(model, self.pk, tenant_key(model, value), tenant_key(model, current))
