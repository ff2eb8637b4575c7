/**
 * What a coursework lab is, as data the `lab` and `grade` commands work from.
 *
 * A lab lives in `labs/<name>/`: its handout (`README.md`), its points file
 * (`points.json`: the parts, each with its checks and their points) and, for
 * an implementation lab, its starter files (`starter/`, copied by `lab init`).
 * Its code — the problems it poses and the checks that grade it — is a `Lab`
 * registered in `src/labs/index.ts`.
 *
 * Grades rest on counted events and modelled time only, never on host timing:
 * grading twice gives the same score and the same lines but for the times in
 * parentheses.
 */

/** How hard a lab or an exercise is, as the handouts mark it. */
export type Difficulty = 'easy' | 'moderate' | 'hard';

/** What the grader knows of one grading: the student's directory and the seeds to check with. */
export interface GradeContext {
  /** The student's working directory (what `lab init` made, with their files). */
  dir: string;
  /** The seeds to grade with: derived from the student's id (or the lab's defaults), then any the teacher added. */
  seeds: (number | string)[];
  /** The student's id, if given. */
  student?: string;
}

/** What one check found: passed, or failed with a message that points at the problem (e.g. the first request that differs). */
export type CheckOutcome = { ok: true; note?: string } | { ok: false; message: string };

/** One graded check: its name (matched with the points file), the part it belongs to, and how it runs. */
export interface LabCheck {
  /** Unique in the lab, as `points.json` names it, e.g. 'digests'. */
  name: string;
  /** One line, as the grade prints it: `== Test <title> ==`. */
  title: string;
  run(ctx: GradeContext): Promise<CheckOutcome>;
}

/** A problem of a problem/answer lab, for one seed: its text, and its answer computed by running the simulator. */
export interface LabProblem {
  /** The problem as printed by `lab show` (after the line of arguments). */
  text: string;
  /** The answer as printed by `lab show -c`: worked out by running the simulator, never by a formula beside it. */
  answer: string;
  /**
   * The answers a student must give, by key (what `answers.json` in the
   * student's directory holds for this seed), with the expected values.
   */
  expected: Record<string, number>;
  /** How close an answer must be, by key: relative tolerance (0 = exact). */
  tolerance?: Record<string, number>;
}

/** A lab as the `lab` and `grade` commands see it. */
export interface Lab {
  /** Its directory name under labs/, and the name the commands take. */
  name: string;
  title: string;
  difficulty: Difficulty;
  kind: 'problem' | 'implementation';
  /** The seeds a grade uses when no student id is given. */
  defaultSeeds: (number | string)[];
  /** Problem labs: the problem for `seed`, its answer computed by running the simulator. */
  problem?(seed: number | string): Promise<LabProblem>;
  /** The checks the grade runs (a problem lab's compare the answers in the student's `answers.json`). */
  checks: LabCheck[];
}

/** `points.json` of a lab: its parts, each with its checks' points. */
export interface PointsFile {
  lab: string;
  parts: { name: string; checks: { name: string; points: number }[] }[];
}

/** The JSON a grade writes with `--results FILE`, for an autograder. */
export interface GradeResults {
  schemaVersion: number;
  kind: 'microlith-grade';
  lab: string;
  student: string | null;
  seeds: (number | string)[];
  score: number;
  max: number;
  parts: { name: string; score: number; max: number }[];
  checks: { name: string; part: string; title: string; points: number; earned: number; ok: boolean; message: string | null; seconds: number }[];
}
