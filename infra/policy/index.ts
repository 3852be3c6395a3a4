// `pulumi preview --policy-pack infra/policy`: the program's security invariants, enforced where
// users review changes. Loading this file starts the pack's server, so tests import policies.ts.
import { PolicyPack } from "@pulumi/policy";
import { POLICIES } from "./policies.ts";

new PolicyPack("clawdinators-security", { enforcementLevel: "mandatory", policies: [...POLICIES] });
