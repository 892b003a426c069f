// The portal's pages: each module exports one page object (or a list of them)
// {id, title, levels, unitTypes?, order, render(ctx)}; the shell shows the ones that
// apply to the viewed unit and the user's level, in `order`.
import overview from "./overview.js";
import children from "./children.js";
import headcounts from "./headcounts.js";
import rounds from "./rounds.js";
import extensions from "./extensions.js";
import units from "./units.js";
import profile from "./profile.js";
import accounts from "./accounts.js";
import reports from "./reports.js";
import audit from "./audit.js";
import learners from "./learners.js";
import learnerImport from "./import.js";
import staff from "./staff.js";
import confirm from "./confirm.js";
import revocations from "./revocations.js";
import transfers from "./transfers.js";
import newyear from "./newyear.js";
import checks from "./checks.js";
import blockers from "./blockers.js";
import notices from "./notices.js";
import agencies from "./agencies.js";

export default [
  overview,
  children,
  headcounts,
  rounds,
  extensions,
  units,
  profile,
  accounts,
  reports,
  audit,
  learners,
  learnerImport,
  staff,
  confirm,
  revocations,
  transfers,
  newyear,
  checks,
  blockers,
  notices,
  agencies,
];
