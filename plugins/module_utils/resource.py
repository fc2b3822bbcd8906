# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one idempotency engine: desired vs current -> plan -> diff -> apply.

A caller gives the desired items (only the fields the user manages), the
current items read from the service, the identity key and per-field
normalisers. :func:`plan` compares them and :func:`apply` hands the
creates/updates/deletes to the caller's bulk operations, except in check mode,
where nothing is written. Fields the user did not give are never compared
and never changed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

CREATE = "create"
UPDATE = "update"
DELETE = "delete"
UNCHANGED = "unchanged"
DIFF_LIMIT = 100

_MAC_HEX = re.compile(r"^[0-9a-f]{12}$")
_MAC_CANONICAL = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}\Z")


class ValidationError(ValueError):
    """Bad input found before any write; ``errors`` lists every bad item."""

    def __init__(self, errors):
        self.errors = errors
        shown = errors[:20]
        text = "; ".join(shown)
        if len(errors) > len(shown):
            text += "; and %d more" % (len(errors) - len(shown))
        super(ValidationError, self).__init__("invalid input, nothing was changed: " + text)


# ---------------------------------------------------------------- normalisers

def normalize_mac(value):
    """``AA-BB-CC-DD-EE-FF``, ``aabb.ccdd.eeff``, ``AABBCCDDEEFF`` -> ``aa:bb:cc:dd:ee:ff``."""
    if not isinstance(value, str):
        raise ValueError("MAC address must be a string, got %r" % (value,))
    if _MAC_CANONICAL.match(value):  # already in the form (what SMD mostly answers): no rebuilding
        return value
    hexes = re.sub(r"[:\-.\s]", "", value.strip().lower())
    if not _MAC_HEX.match(hexes):
        raise ValueError("invalid MAC address %r" % value)
    return ":".join(hexes[i:i + 2] for i in range(0, 12, 2))


def normalize_ip(value):
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise ValueError("invalid IP address %r" % (value,))


def unordered(value):
    """A list compared as a set (order and duplicates do not matter)."""
    if value is None:
        return None
    return tuple(sorted(set(_hashable(v) for v in value), key=repr))


def lower(value):
    return value.lower() if isinstance(value, str) else value


def _hashable(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


# ---------------------------------------------------------------- the plan

class Change:
    """One item of a plan."""

    __slots__ = ("key", "action", "before", "after", "changes", "desired")

    def __init__(self, key, action, before=None, after=None, changes=None, desired=None):
        self.key = key
        self.action = action
        self.before = before
        self.after = after
        self.changes = changes or {}
        self.desired = desired

    def __repr__(self):
        return "Change(%r, %s, %r)" % (self.key, self.action, self.changes)


class Plan:
    def __init__(self, changes):
        self.changes = changes

    def of(self, action):
        return [c for c in self.changes if c.action == action]

    @property
    def changed(self):
        return any(c.action != UNCHANGED for c in self.changes)

    def summary(self):
        counts = dict((a, 0) for a in (CREATE, UPDATE, DELETE, UNCHANGED))
        for change in self.changes:
            counts[change.action] += 1
        return counts

    def diff(self, limit=DIFF_LIMIT):
        """Ansible ``diff`` {before, after}, keyed by identity, for the changed items.

        Up to ``limit`` items are shown in full; past that a line counts the rest.
        """
        before, after = {}, {}
        changed = [c for c in self.changes if c.action != UNCHANGED]
        for change in changed[:limit]:
            key = str(change.key)
            if change.action == CREATE:
                after[key] = _capped_lists(change.after, limit)
            elif change.action == DELETE:
                before[key] = _capped_lists(change.before, limit)
            else:
                before[key], after[key] = _list_changes(
                    dict((f, change.before.get(f)) for f in change.changes), dict(change.changes), limit)
        if len(changed) > limit:
            counts = self.summary()
            note = "%d more changed items not shown (create %d, update %d, delete %d in all)" % (
                len(changed) - limit, counts[CREATE], counts[UPDATE], counts[DELETE])
            before["..."] = note
            after["..."] = note
        return {"before": before, "after": after}

    def resources(self, changed_only=True):
        """The items as they are after the plan is applied (deleted items left out).

        By default only created and updated items: at 10,000 items, returning the
        unchanged ones too costs Ansible more than the whole API work.
        """
        return [c.after for c in self.changes
                if c.action != DELETE and (c.action != UNCHANGED or not changed_only)]


def _capped_lists(item, limit):
    """``item`` with every list longer than ``limit`` cut to ``limit`` entries and a line counting the rest."""
    if not isinstance(item, dict):
        return item
    out = dict(item)
    for field, value in item.items():
        if isinstance(value, list) and len(value) > limit:
            out[field] = value[:limit] + ["... %d more not shown (%d in all)" % (len(value) - limit, len(value))]
    return out


def _list_changes(before, after, limit):
    """The before/after of an update, with long lists (a group's members) shown as what left and what came:
    at most ``limit`` of each, and a line counting the entries both sides share."""
    before, after = dict(before), dict(after)
    for field in after:
        old, new = before.get(field), after[field]
        if not (isinstance(old, list) and isinstance(new, list)) or max(len(old), len(new)) <= limit:
            continue
        old_keys = set(_hashable(v) for v in old)
        new_keys = set(_hashable(v) for v in new)
        removed = [v for v in old if _hashable(v) not in new_keys]
        added = [v for v in new if _hashable(v) not in old_keys]
        note = "... %d entries in both not shown" % len(old_keys & new_keys)
        before[field] = _capped_lists({"x": removed}, limit)["x"] + [note]
        after[field] = _capped_lists({"x": added}, limit)["x"] + [note]
    return before, after


def _key_func(key):
    if callable(key):
        return key
    if isinstance(key, (list, tuple)):
        return lambda item: tuple(item.get(k) for k in key)
    return lambda item: item.get(key)


def _norm(field, value, normalizers):
    func = normalizers.get(field)
    if func is None or value is None:
        return _hashable(value)
    return func(value)


def plan(desired, current, key, state="present", normalizers=None, purge=False, merge=None):
    """Compare ``desired`` with ``current``.

    - ``key``: field name, list of names, or callable giving an item's identity
      (apply normalisers beforehand so identities compare).
    - ``state``: ``present`` creates/updates the desired items, ``absent`` deletes them.
    - ``purge``: with ``present``, delete current items that are not desired.
    - ``merge(current, desired) -> after``: how an update combines (default: dict update).
    Fields whose desired value is None are not managed.
    """
    normalizers = normalizers or {}
    keyf = _key_func(key)
    by_key = {}
    for item in current:
        by_key[keyf(item)] = item
    seen = set()
    changes = []
    for item in desired:
        item = dict((k, v) for k, v in item.items() if v is not None)
        ident = keyf(item)
        if ident in seen:
            raise ValidationError(["%s appears more than once" % (ident,)])
        seen.add(ident)
        existing = by_key.get(ident)
        if state == "absent":
            if existing is not None:
                changes.append(Change(ident, DELETE, before=existing, desired=item))
            continue
        if existing is None:
            changes.append(Change(ident, CREATE, after=item, desired=item))
            continue
        diffs = {}
        for field, value in item.items():
            if _norm(field, value, normalizers) != _norm(field, existing.get(field), normalizers):
                diffs[field] = value
        after = merge(existing, item) if merge else dict(existing, **item)
        action = UPDATE if diffs else UNCHANGED
        changes.append(Change(ident, action, before=existing, after=after, changes=diffs, desired=item))
    if purge and state == "present":
        for ident, existing in by_key.items():
            if ident not in seen:
                changes.append(Change(ident, DELETE, before=existing))
    return Plan(changes)


def apply(the_plan, check_mode=False, create=None, update=None, delete=None, upsert=None):
    """Hand the plan's changes to the bulk operations (never in check mode).

    Each operation receives the list of :class:`Change` of its kind and is called
    at most once, and only when that list is not empty. A missing operation for a
    non-empty list raises ValueError (the module does not support that change).
    ``upsert``, for APIs whose one write creates or replaces, receives the creates
    and the updates together in one call, in the order of the plan (instead of
    ``create`` and ``update``), so items that end up alike can share one request
    whether they existed or not.
    Deletes run first.

    An operation that fails raises :class:`ApplyError`, which says which changes were written (the
    operations that finished), which may have been (the failing one) and which were not (those after it).
    """
    if upsert is not None and (create is not None or update is not None):
        raise ValueError("give either upsert or create/update")
    if check_mode:
        return the_plan
    steps = [(DELETE, delete, the_plan.of(DELETE))]
    if upsert is not None:
        steps.append((CREATE + "/" + UPDATE, upsert, [c for c in the_plan.changes if c.action in (CREATE, UPDATE)]))
    else:
        steps.extend([(CREATE, create, the_plan.of(CREATE)), (UPDATE, update, the_plan.of(UPDATE))])
    for action, operation, items in steps:
        if items and operation is None:
            raise ValueError("%s is not supported here" % action)
    done = []
    for index, (action, operation, items) in enumerate(steps):
        if not items:
            continue
        try:
            operation(items)
        except Exception as exc:  # pylint: disable=broad-except
            later = [c for _a, _o, rest in steps[index + 1:] for c in rest]
            raise ApplyError(exc, done, items, later)
        done.extend(items)
    return the_plan


class ApplyError(Exception):
    """A write failed while a plan was applied; ``cause`` is the original error.

    ``written``: changes whose operation finished; ``in_doubt``: changes of the failed operation (some of them
    may be written: the operation's error can say which with ``done_items``, a list of the changes that
    succeeded, and ``done_count``/``failed_count``, its successful and failed requests); ``not_written``:
    changes of the operations that were not started.
    """

    def __init__(self, cause, written, in_doubt, not_written):
        done_ids = set(id(item) for item in getattr(cause, "done_items", None) or [])
        self.cause = cause
        succeeded = [c for c in in_doubt if id(c) in done_ids or (c.after is not None and id(c.after) in done_ids)]
        self.written = list(written) + succeeded
        written_ids = set(id(c) for c in succeeded)
        self.in_doubt = [c for c in in_doubt if id(c) not in written_ids]
        self.not_written = list(not_written)
        self.done_count = getattr(cause, "done_count", None)
        super(ApplyError, self).__init__(str(cause))

    @staticmethod
    def _listing(changes, limit=DIFF_LIMIT):
        return {"count": len(changes), "items": ["%s %s" % (c.action, c.key) for c in changes[:limit]]}

    def report(self):
        """What was written, may have been, and was not: counts and up to DIFF_LIMIT items each."""
        out = {"written": self._listing(self.written), "in_doubt": self._listing(self.in_doubt),
               "not_written": self._listing(self.not_written)}
        if self.done_count is not None:
            out["in_doubt"]["requests_succeeded"] = self.done_count
        return out

    def message(self):
        parts = ["%d written" % len(self.written)]
        if self.in_doubt:
            doubt = "%d in doubt (the failed step" % len(self.in_doubt)
            if self.done_count is not None:
                doubt += ": %d of its requests succeeded" % self.done_count
            parts.append(doubt + ")")
        parts.append("%d not attempted" % len(self.not_written))
        return ("%s; the task stopped part-way: %s (see 'partial'). Re-running the task compares again and "
                "writes only what is still missing" % (self.cause, ", ".join(parts)))


def result(the_plan, **extra):
    """The standard module result for a plan."""
    out = dict(changed=the_plan.changed, summary=the_plan.summary(), diff=the_plan.diff())
    out.update(extra)
    return out


# ---------------------------------------------------------------- one spec per resource

class Field:
    """One option of a resource: its module option, its API field and how it is checked and compared.

    ``check(value)`` raises ValueError (a message naming the value) or returns the value to send;
    ``compare(value)`` gives the form two values are compared in (the engine's normaliser);
    ``no_log`` fields are never returned or shown in a diff; ``identity`` fields make the item's key.
    The other keywords are the argument-spec entries of the option.
    """

    def __init__(self, option, api=None, check=None, compare=None, no_log=False, identity=False, **spec):
        self.option = option
        self.api = api or option
        self.check = check
        self.compare = compare
        self.no_log = no_log
        self.identity = identity
        spec.setdefault("type", "str")
        spec["no_log"] = no_log  # always said, so that names like public_keys are not taken for secrets
        self.spec = spec


class Spec:
    """The fields of one resource, from which the argument spec, the API body, the comparison and the
    secret stripping are all derived."""

    def __init__(self, *fields):
        self.fields = fields
        key = tuple(f.api for f in fields if f.identity)
        self.key = key[0] if len(key) == 1 else key  # as plan() takes it

    def argument_spec(self):
        return dict((f.option, dict(f.spec)) for f in self.fields)

    def normalizers(self):
        return dict((f.api, f.compare) for f in self.fields if f.compare)

    def desired(self, items, what="item"):
        """Module items (options) -> API items, every field checked; one ValidationError names every bad one.

        Options given as None are left out (not managed). ``what=None`` for a singleton (module options).
        """
        return self._checked(items, what, "option", keep=False)

    def check(self, items, what="item"):
        """API items (as a planner builds them) checked with the same checks and messages as :meth:`desired`;
        fields outside the spec are kept."""
        return self._checked(items, what, "api", keep=True)

    def _checked(self, items, what, names, keep):
        """Each bad value is named by its item's identity (or its index when it has none) and its option."""
        out, errors = [], []
        for index, given in enumerate(items):
            item = dict(given) if keep else {}
            for field in self.fields:
                value = given.get(getattr(field, names))
                if value is None:
                    continue
                try:
                    item[field.api] = field.check(value) if field.check else value
                except ValueError as exc:
                    ident = [str(given.get(getattr(f, names))) for f in self.fields
                             if f.identity and given.get(getattr(f, names)) is not None]
                    where = "%s %s: " % (what, ", ".join(ident) or index) if what else ""
                    errors.append("%s%s: %s" % (where, field.option, exc))
            out.append(item)
        if errors:
            raise ValidationError(errors)
        return out

    def public(self, item):
        """``item`` without its secret fields (for results and diffs)."""
        secret = set(f.api for f in self.fields if f.no_log)
        return dict((k, v) for k, v in item.items() if k not in secret)


def check_each(values, check, what, errors=None):
    """``check`` every value; the checked values. Each bad one is named (``what[index]: why``) in one
    ValidationError, or appended to ``errors`` when a caller collects several lists before raising."""
    out, found = [], []
    for index, value in enumerate(values or []):
        try:
            out.append(check(value))
        except ValueError as exc:
            found.append("%s[%d]: %s" % (what, index, exc))
    if errors is not None:
        errors.extend(found)
    elif found:
        raise ValidationError(found)
    return out


class SingletonPlan(Plan):
    """The plan of a resource that exists once (cluster defaults): its diff and result have no key level."""

    def diff(self, limit=DIFF_LIMIT):
        change = self.changes[0]
        if change.action == UNCHANGED:
            return {"before": {}, "after": {}}
        return {"before": dict((f, change.before.get(f)) for f in change.changes), "after": dict(change.changes)}

    @property
    def after(self):
        return self.changes[0].after


def plan_singleton(desired, current, normalizers=None):
    """Compare the fields given in ``desired`` with ``current`` (a dict); fields not given are not managed."""
    the_plan = plan([dict(desired, **{_SINGLE: _SINGLE})], [dict(current, **{_SINGLE: _SINGLE})], _SINGLE,
                    normalizers=normalizers)
    change = the_plan.changes[0]
    for side in ("before", "after", "desired"):
        value = getattr(change, side)
        if value is not None:
            setattr(change, side, dict((k, v) for k, v in value.items() if k != _SINGLE))
    return SingletonPlan(the_plan.changes)


_SINGLE = "\0singleton"


# ---------------------------------------------------------------- actions (a per-target before/after plan)

def target(before, after, acts=None, **extra):
    """What an action (a power operation, a boot setting) would do to one target: its planned result.

    ``before`` is what was read, ``after`` what the action leads to; the target acts when ``acts`` says so
    (by default when the two differ; a restart acts on a node that is on and stays on). A target that does
    not act keeps its ``before`` as ``after``. ``extra`` (``name``, ``method``...) goes into the result.
    """
    acts = before != after if acts is None else bool(acts)
    return dict(extra, status="ok", changed=acts, before=before, after=after if acts else before)


def carry_out(targets, check_mode, write):
    """Carry out the planned ``targets`` (:func:`target`) that act, with one ``write(acting)`` call; in check
    mode, or when none acts, nothing is written and every result keeps its predicted ``after``.

    ``write`` returns one dict per acting target, in their order: what happened (``after`` as read back, what
    was sent, a ``status`` other than ok with a ``message``), which replaces the prediction. Returns ``targets``.
    """
    acting = [t for t in targets if t["changed"]]
    if check_mode or not acting:
        return targets
    for planned, outcome in zip(acting, write(acting)):
        del planned["after"]
        planned.update(outcome or {})
    return targets


def act(before, after, check_mode, write, acts=None, **extra):
    """:func:`carry_out` of one target: ``write()`` (no argument) returns what happened to it."""
    return carry_out([target(before, after, acts, **extra)], check_mode, lambda _acting: [write()])[0]


class ActionPlan(Plan):
    """The plan of an action over many targets, made of their results: ``changed`` where a target acted (or
    would, in check mode), a diff of the acting targets' ``before``/``after`` by name, counts by status."""

    def __init__(self, results):
        self.results = results
        super(ActionPlan, self).__init__([
            Change(r["name"], UPDATE if r.get("changed") else UNCHANGED, before=r.get("before"), after=r.get("after"))
            for r in results])

    def summary(self):
        counts = {}
        for result in self.results:
            counts[result["status"]] = counts.get(result["status"], 0) + 1
        return dict(counts, changed=len(self.of(UPDATE)))

    def diff(self, limit=DIFF_LIMIT):
        shown = self.of(UPDATE)[:limit]
        return {"before": dict((c.key, c.before) for c in shown), "after": dict((c.key, c.after) for c in shown)}

    def failed(self):
        """The results of the targets that failed (or timed out)."""
        return [r for r in self.results if r["status"] != "ok"]

    def resources(self, changed_only=False):
        return self.results


def plan_actions(items):
    """The :class:`ActionPlan` of ``items``: target results (:func:`target`, :func:`carry_out`), or
    ``(name, before, after)`` tuples (acting where before and after differ)."""
    return ActionPlan([target(item[1], item[2], name=item[0]) if isinstance(item, tuple) else item
                       for item in items])
