"""The fleet stack, checked on the processed template.

`template.yaml` goes through the two transforms CloudFormation applies: AWS::LanguageExtensions (the SAM
CLI's local implementation of it expands the Fn::ForEach loops with the given parameters) and then the SAM
transform (samtranslator, the library CloudFormation's own SAM transform runs). What comes out is plain
CloudFormation whose Conditions still need evaluating; `evaluate` does that. The checks then read the
result the way an auditor would:

- every stream has exactly one enabled event source mapping, with the template's choices;
- each KMS key may decrypt exactly the encryption contexts of its own streams: the decrypt statements are
  evaluated, as IAM evaluates their conditions, against every candidate context (each resource id under
  both context keys, both keys at once, an extra key, none), not compared as text;
- a role's inline policies fit IAM's 10,240-character limit at the largest fleet the docs promise;
- the one-stream parameters still give the mapping SAM created before (same logical id, same settings).

Run by `make template-lint` (it needs the SAM CLI's venv): .venv-sam/bin/python -m unittest tests/template/fleet.py
"""

import copy
import json
import os
import re
import unittest

from samcli.lib.cfn_language_extensions.api import process_template
from samcli.lib.cfn_language_extensions.models import PseudoParameterValues
from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform as sam_transform

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TEMPLATE = os.path.join(ROOT, "template.yaml")
# The most streams a stack takes (DasStreamArns, and DasStreamArn if set), as the README, docs/deployment.md
# and the template's DasStreamArns description promise.
MAX_STREAMS = 20
IAM_ROLE_INLINE_LIMIT = 10240
IAM_MANAGED_POLICY_LIMIT = 6144


def stream(kind, rid, region="us-east-1"):
    return f"arn:aws:kinesis:{region}:123456789012:stream/aws-rds-das-{kind}-{rid}"


def key(n, region="us-east-1"):
    return f"arn:aws:kms:{region}:123456789012:key/{n}"


def rid_of(arn):
    return arn.split("aws-rds-das-", 1)[1]


def context_key_of(rid):
    return "aws:rds:dbc-id" if rid.startswith("cluster-") else "aws:rds:db-id"


class NoManagedPolicies:
    """samtranslator looks managed policy names up through IAM; the template names none."""

    def load(self):
        return {}


def processed(params, region="us-east-1"):
    """template.yaml after both transforms, with its conditions evaluated."""
    with open(TEMPLATE) as f:
        template = yaml_parse(f.read())
    values = {k: v["Default"] for k, v in template["Parameters"].items() if "Default" in v}
    values.update(params)
    for name, spec in template["Parameters"].items():
        if spec["Type"] == "CommaDelimitedList" and isinstance(values.get(name), str):
            values[name] = values[name].split(",")
    partition = "aws-us-gov" if region.startswith("us-gov-") else "aws"
    pseudo = PseudoParameterValues(
        region=region, account_id="123456789012", partition=partition, stack_name="fleet", stack_id="fleet"
    )
    literal = copy.deepcopy(template["Resources"])
    expanded = process_template(template, values, pseudo)
    # A loop's resources must not take a name the template already has (with an empty DasStreamArns
    # the loop still runs once, on ""): the local transform would let one silently replace the other,
    # CloudFormation refuses the template.
    generated = 0
    for name, loop in literal.items():
        if name.startswith("Fn::ForEach::"):
            _, collection, body = loop
            items = values[collection["Ref"]] if isinstance(collection, dict) else collection
            generated += len(items) * len(body)
    plain = sum(1 for name in literal if not name.startswith("Fn::ForEach::"))
    assert len(expanded["Resources"]) == plain + generated, "a loop's resource replaced another"
    # The SAM transform wants a packaged CodeUri (sam validate substitutes one the same way).
    expanded["Resources"]["Forwarder"]["Properties"]["CodeUri"] = "s3://bucket/code.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    out = sam_transform(expanded, {k: v for k, v in values.items()}, NoManagedPolicies())
    return Stack(out)


class Stack:
    """A processed template: its conditions evaluated, Fn::If taken, resources filtered by condition."""

    def __init__(self, template):
        self.template = template
        self.conditions = {}
        for name in template.get("Conditions", {}):
            self.condition(name)
        self.resources = {
            lid: self.take_ifs(r)
            for lid, r in template["Resources"].items()
            if "Condition" not in r or self.conditions[r["Condition"]]
        }

    def condition(self, name):
        if name not in self.conditions:
            self.conditions[name] = self.truth(self.template["Conditions"][name])
        return self.conditions[name]

    def truth(self, expr):
        (fn, args), = expr.items()
        if fn == "Condition":
            return self.condition(args)
        if fn == "Fn::Not":
            return not self.truth(args[0])
        if fn == "Fn::And":
            return all(self.truth(a) for a in args)
        if fn == "Fn::Or":
            return any(self.truth(a) for a in args)
        if fn == "Fn::Equals":
            a, b = (self.value(x) for x in args)
            return str(a) == str(b)
        raise AssertionError(f"condition function not evaluated here: {fn}")

    def value(self, v):
        if isinstance(v, dict) and len(v) == 1:
            (fn, args), = v.items()
            if fn == "Fn::Join":
                return args[0].join(str(self.value(x)) for x in args[1])
            if fn == "Condition":
                return self.condition(args)
            raise AssertionError(f"unresolved value in a condition: {v}")
        return v

    def take_ifs(self, v):
        """Fn::If with its branch taken; AWS::NoValue removed, as CloudFormation does."""
        if isinstance(v, dict):
            if set(v) == {"Fn::If"}:
                cond, yes, no = v["Fn::If"]
                return self.take_ifs(yes if self.conditions[cond] else no)
            out = {}
            for k, x in v.items():
                x = self.take_ifs(x)
                if x != NO_VALUE:
                    out[k] = x
            return out
        if isinstance(v, list):
            return [x for x in (self.take_ifs(x) for x in v) if x != NO_VALUE]
        return v

    def of_type(self, t):
        return {lid: r for lid, r in self.resources.items() if r["Type"] == t}

    def mappings(self):
        return self.of_type("AWS::Lambda::EventSourceMapping")

    def inline_policies(self):
        """The inline policy documents of the function's role: the role's own and the RolePolicy resources."""
        docs = [p["PolicyDocument"] for p in self.resources["ForwarderRole"]["Properties"].get("Policies", [])]
        for r in self.of_type("AWS::IAM::RolePolicy").values():
            assert r["Properties"]["RoleName"] == {"Ref": "ForwarderRole"}, r
            docs.append(r["Properties"]["PolicyDocument"])
        return docs

    def managed_policies(self):
        """The customer managed policy documents attached to the function's role."""
        out = []
        for r in self.of_type("AWS::IAM::ManagedPolicy").values():
            assert r["Properties"]["Roles"] == [{"Ref": "ForwarderRole"}], r
            out.append(r["Properties"]["PolicyDocument"])
        return out

    def role_policies(self):
        return self.inline_policies() + self.managed_policies()

    def decrypt_statements(self):
        out = []
        for doc in self.role_policies():
            for st in doc["Statement"]:
                actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                if "kms:Decrypt" in actions:
                    out.append(st)
        return out


NO_VALUE = {"Ref": "AWS::NoValue"}


def as_list(v):
    return v if isinstance(v, list) else [v]


def condition_holds(op, key, wanted, ctx):
    """One IAM condition operator on one key, against an encryption context (a dict), as IAM evaluates it."""
    keys = sorted(ctx)
    if key == "kms:EncryptionContextKeys":
        present, values = bool(keys), keys
    elif key.startswith("kms:EncryptionContext:"):
        name = key[len("kms:EncryptionContext:"):]
        present, values = name in ctx, [ctx[name]] if name in ctx else []
    else:
        raise AssertionError(f"condition key not modelled: {key}")
    wanted = [str(w) for w in as_list(wanted)]
    if op == "Null":
        return (not present) == (wanted == ["true"])
    if op == "StringEquals":
        return present and any(v in wanted for v in values)
    if op == "StringEqualsIfExists":
        return (not present) or any(v in wanted for v in values)
    if op == "ForAllValues:StringEquals":
        return all(v in wanted for v in values)
    raise AssertionError(f"condition operator not modelled: {op}")


def allows(statement, ctx):
    assert statement["Effect"] == "Allow", statement
    return all(
        condition_holds(op, k, wanted, ctx)
        for op, block in statement.get("Condition", {}).items()
        for k, wanted in block.items()
    )


def candidate_contexts(rids):
    """Every context a role could be asked to decrypt under: each id under each key, pairs, extras, none."""
    out = [{}]
    for rid in rids:
        out += [
            {"aws:rds:dbc-id": rid},
            {"aws:rds:db-id": rid},
            {"aws:rds:dbc-id": rid, "aws:rds:db-id": rid},
            {context_key_of(rid): rid, "aws:rds:other": rid},
        ]
    return out


def allowed_contexts(stack, rids):
    """key ARN -> the contexts (as sorted item tuples) the role may decrypt under with that key."""
    out = {}
    for st in stack.decrypt_statements():
        for k in as_list(st["Resource"]):
            for ctx in candidate_contexts(rids):
                if allows(st, ctx):
                    out.setdefault(k, set()).add(tuple(sorted(ctx.items())))
    return out


def expected_contexts(pairs):
    out = {}
    for arn, k in pairs:
        rid = rid_of(arn)
        out.setdefault(k, set()).add(((context_key_of(rid), rid),))
    return out


THREE = [stream("cluster", "A" * 26), stream("db", "B" * 26), stream("cluster", "C" * 26)]
TWO_KEYS = [key("1111aaaa-0000-0000-0000-000000000001"), key("2222bbbb-0000-0000-0000-000000000002")]


class Fleet(unittest.TestCase):
    def check_mappings(self, stack, streams):
        got = {}
        for lid, m in stack.mappings().items():
            p = m["Properties"]
            got.setdefault(p["EventSourceArn"], []).append(lid)
            self.assertEqual(p["FunctionName"], {"Ref": "Forwarder"}, lid)
            self.assertEqual(p["FunctionResponseTypes"], ["ReportBatchItemFailures"], lid)
            self.assertIs(p["BisectBatchOnFunctionError"], True, lid)
            self.assertEqual(p["DestinationConfig"]["OnFailure"]["Destination"], {"Fn::GetAtt": ["OnFailureQueue", "Arn"]})
        self.assertEqual(sorted(got), sorted(streams), "one mapping per stream, no other")
        for arn, lids in got.items():
            self.assertEqual(len(lids), 1, f"{arn} has mappings {lids}")
        return got

    def test_three_streams_two_keys(self):
        keys = [TWO_KEYS[0], TWO_KEYS[1], TWO_KEYS[0]]
        stack = processed({"DasStreamArns": ",".join(THREE), "DasKmsKeyArns": ",".join(keys)})
        got = self.check_mappings(stack, THREE)
        # Named from the stream, not its place in the list: removing one leaves the others' mappings alone.
        for arn, (lid,) in got.items():
            self.assertEqual(lid, "FleetMapping" + re.sub("[^A-Za-z0-9]", "", arn))
        self.assertNotIn("ForwarderDas", stack.resources)
        rids = [rid_of(a) for a in THREE] + ["cluster-" + "Z" * 26, "db-" + "Z" * 26]
        self.assertEqual(allowed_contexts(stack, rids), expected_contexts(zip(THREE, keys)))
        alarms = stack.of_type("AWS::CloudWatch::Alarm")
        for arn in THREE:
            dims = [a["Properties"].get("Dimensions") for a in alarms.values()]
            self.assertEqual(dims.count([{"Name": "ResourceId", "Value": rid_of(arn)}]), 2, f"alarms of {arn}")

    def test_one_shared_key(self):
        stack = processed({"DasStreamArns": ",".join(THREE), "DasKmsKeyArn": TWO_KEYS[1]})
        self.check_mappings(stack, THREE)
        rids = [rid_of(a) for a in THREE]
        self.assertEqual(allowed_contexts(stack, rids), expected_contexts((a, TWO_KEYS[1]) for a in THREE))

    def test_one_stream_parameters_keep_their_mapping(self):
        one = stream("cluster", "D" * 26)
        stack = processed({"DasStreamArn": one, "DasKmsKeyArn": TWO_KEYS[0]})
        got = self.check_mappings(stack, [one])
        # The logical id SAM gave the mapping when it was the function's "Das" event: an upgraded stack
        # keeps its mapping and the mapping its position in the stream.
        self.assertEqual(got[one], ["ForwarderDas"])
        p = stack.resources["ForwarderDas"]["Properties"]
        self.assertEqual(
            {k: p[k] for k in ("StartingPosition", "BatchSize", "MaximumBatchingWindowInSeconds",
                               "ParallelizationFactor", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds")},
            {"StartingPosition": "LATEST", "BatchSize": 100, "MaximumBatchingWindowInSeconds": 1,
             "ParallelizationFactor": 1, "MaximumRetryAttempts": 100, "MaximumRecordAgeInSeconds": 86400},
        )
        self.assertEqual(allowed_contexts(stack, [rid_of(one)]), expected_contexts([(one, TWO_KEYS[0])]))
        self.assertEqual(stack.of_type("AWS::IAM::RolePolicy"), {})
        # The decrypt statement is updated in place, in the inline policy that held it before, so an
        # upgraded function is never without it.
        (inline,) = stack.resources["ForwarderRole"]["Properties"]["Policies"]
        self.assertEqual(inline["PolicyName"], "ForwarderRolePolicy0")
        self.assertEqual([st["Sid"] for st in inline["PolicyDocument"]["Statement"]], ["DecryptThisStreamsKeysOnly"])

    def test_one_stream_and_a_fleet(self):
        one = stream("db", "E" * 26)
        stack = processed({"DasStreamArn": one, "DasKmsKeyArn": TWO_KEYS[0],
                           "DasStreamArns": ",".join(THREE[:2]), "DasKmsKeyArns": ",".join(TWO_KEYS)})
        self.check_mappings(stack, [one] + THREE[:2])
        rids = [rid_of(a) for a in [one] + THREE[:2]]
        want = expected_contexts([(one, TWO_KEYS[0]), (THREE[0], TWO_KEYS[0]), (THREE[1], TWO_KEYS[1])])
        self.assertEqual(allowed_contexts(stack, rids), want)

    def test_too_few_keys_fails_the_deployment_naming_it(self):
        stack = processed({"DasStreamArns": ",".join(THREE), "DasKmsKeyArns": ",".join(TWO_KEYS)})
        resources = [st["Resource"] for st in stack.decrypt_statements()]
        self.assertEqual(resources, TWO_KEYS + ["DasKmsKeyArns-has-no-key-for-this-stream"])

    def test_largest_fleet_fits_the_roles_inline_policy_limit(self):
        # The longest names: GovCloud's partition, a 14-character region's worth of ARN, multi-region
        # keys, every optional sink and secret; MAX_STREAMS all in DasStreamArns, or one of them in
        # DasStreamArn (its statement is inline too).
        region = "us-gov-west-1"

        def long_stream(kind, rid):
            return f"arn:aws-us-gov:kinesis:{region}:123456789012:stream/aws-rds-das-{kind}-{rid}"

        def long_key(n):
            return f"arn:aws-us-gov:kms:{region}:123456789012:key/mrk-{n:032x}"

        for single in (False, True):
            n = MAX_STREAMS - int(single)
            streams = [long_stream("cluster" if i % 2 else "db", f"{i:02d}" + "X" * 24) for i in range(n)]
            params = {
                "DasStreamArns": ",".join(streams), "DasKmsKeyArns": ",".join(long_key(i) for i in range(n)),
                "HecUrl": "https://splunk.example.com:8088", "HecTokenSecretArn": SECRET,
                "WebhookUrl": "https://siem.example.com/das", "WebhookSecretArn": SECRET,
                "S3RoleArn": "arn:aws-us-gov:iam::123456789012:role/" + "r" * 64, "OutputBucketName": "b" * 63,
                "QuarantinePrefix": "q" * 64 + "/",
            }
            if single:
                params.update({"DasStreamArn": long_stream("cluster", "S" * 26), "DasKmsKeyArn": long_key(99)})
            stack = processed(params, region)
            self.assertEqual(len(stack.mappings()), MAX_STREAMS)
            size = sum(iam_size(doc) for doc in stack.inline_policies())
            self.assertLessEqual(size, IAM_ROLE_INLINE_LIMIT, f"{MAX_STREAMS} streams: {size} characters")
            (managed,) = stack.managed_policies()
            self.assertLessEqual(iam_size(managed), IAM_MANAGED_POLICY_LIMIT)
            print(f"\n  {n} streams in DasStreamArns{' and one in DasStreamArn' if single else ''}, the longest "
                  f"names: the role's inline policies {size} of {IAM_ROLE_INLINE_LIMIT} characters, its managed "
                  f"policy {iam_size(managed)} of {IAM_MANAGED_POLICY_LIMIT}")


SECRET = "arn:aws:secretsmanager:ap-southeast-3:123456789012:secret:das-forwarder/hec-token-AbCdEf"


def iam_size(doc):
    """IAM counts a policy's characters without white space; an intrinsic still unresolved here (an ARN
    CloudFormation fills in) is counted as 128 characters, more than any of them is."""
    return len(json.dumps(concrete(doc), separators=(",", ":")))


def concrete(v):
    if isinstance(v, dict):
        if len(v) == 1 and next(iter(v)) in ("Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join"):
            return "x" * 128
        return {k: concrete(x) for k, x in v.items()}
    if isinstance(v, list):
        return [concrete(x) for x in v]
    return v


if __name__ == "__main__":
    unittest.main()
