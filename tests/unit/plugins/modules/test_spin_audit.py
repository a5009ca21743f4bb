"""spin_audit: the runs of the audit trail, filtered."""
from ansible_collections.spin.platform.plugins.module_utils.monitor import audit
from ansible_collections.spin.platform.plugins.modules import spin_audit


def test_listing_filters_by_tenant_stack_outcome_and_keeps_the_newest(tmp_path):
    path = str(tmp_path / "audit.jsonl")
    for tenant, stack, outcome in (("cory", "a", "deployed"), ("cory", "b", "failed"), ("demo", "a", "refused"),
                                   ("cory", "a", None)):
        run = audit.Run(path, tenant, stack, "deploy", "sha256:x")
        run.start()
        if outcome:
            run.finish(outcome, cause="why" if outcome != "deployed" else None)
    records = audit.read_records(path)
    everything = spin_audit.listing({"limit": 0}, records)
    assert [(r["tenant"], r["stack"], r["outcome"]) for r in everything] == [
        ("cory", "a", "deployed"), ("cory", "b", "failed"), ("demo", "a", "refused"), ("cory", "a", "running")]
    assert [r["outcome"] for r in spin_audit.listing({"stack": "a", "tenant": "cory", "limit": 0}, records)] == [
        "deployed", "running"]
    assert [r["stack"] for r in spin_audit.listing({"outcome": ["failed", "refused"], "limit": 0}, records)] == [
        "b", "a"]
    assert [r["outcome"] for r in spin_audit.listing({"limit": 1}, records)] == ["running"]
