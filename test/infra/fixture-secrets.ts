// The secrets fixture the stack tests and `fleet spawn` share, apart from the Pulumi harness so a
// test that needs only these does not load @pulumi/pulumi and the program with them.
import path from "node:path";
import { ROOT } from "../helpers/cli.ts";

/** A syntactically valid age identity that opens nothing. */
export const TEST_AGE_IDENTITY = `AGE-SECRET-KEY-1${"QQQQPQQQQPQQQQPQQQQPQQQQPQQQQPQQQQPQQQQPQQQQPQQQQPQQQQPQQQ".slice(0, 58)}`;
export const FIXTURE_SECRETS_DIR = path.join(ROOT, "test/infra/fixtures/secrets");
