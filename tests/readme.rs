//! README.md cannot drift from the code: its configuration table lists exactly
//! the flags and environment variables that clap defines (same names, same
//! defaults), and its tool count is the catalogue's.
//!
//! Owns only reading README.md; the command line's definitions come from
//! `cli::Cli` through clap's `CommandFactory`.

use clap::CommandFactory;
use digistore24_mcp::catalog::FUNCTIONS;
use digistore24_mcp::cli::Cli;
use std::collections::BTreeSet;

/// Variables that are read by something other than clap, so have no flag.
const ENV_ONLY: &[&str] = &["RUST_LOG"];

/// One `--flag` (with its environment variable) as clap defines it.
#[derive(Debug)]
struct ClapFlag {
    subcommand: String,
    long: String,
    env: Option<String>,
    defaults: Vec<String>,
}

/// One flag/variable pair as a row of the README's table says it.
#[derive(Debug)]
struct Row {
    line: usize,
    flag: Option<String>,
    env: String,
    /// Subcommands named in the flag cell, e.g. "(`sandbox`)"; empty = not said.
    subcommands: Vec<String>,
    /// The first code span of the default cell, if the cell starts with one.
    default: Option<String>,
}

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md is readable")
}

/// Every long flag of every subcommand; global flags count in each.
fn clap_flags() -> Vec<ClapFlag> {
    let root = Cli::command();
    let globals: Vec<&clap::Arg> = root.get_arguments().filter(|a| a.is_global_set()).collect();
    let mut out = Vec::new();
    for sub in root.get_subcommands() {
        for arg in sub.get_arguments().chain(globals.iter().copied()) {
            let Some(long) = arg.get_long() else { continue };
            out.push(ClapFlag {
                subcommand: sub.get_name().to_owned(),
                long: format!("--{long}"),
                env: arg.get_env().map(|e| e.to_string_lossy().into_owned()),
                defaults: arg.get_default_values().iter().map(|d| d.to_string_lossy().into_owned()).collect(),
            });
        }
    }
    assert!(out.len() > 20, "clap's definitions were read: {} flags", out.len());
    out
}

/// The text inside backticks, in order.
fn code_spans(cell: &str) -> Vec<String> {
    cell.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

/// The rows of the table under "## Configuration", one per flag/variable pair.
fn table_rows(readme: &str) -> Vec<Row> {
    let lines: Vec<&str> = readme.lines().collect();
    let section = lines.iter().position(|l| *l == "## Configuration").expect("README.md has a ## Configuration section");
    let header = (section..lines.len()).find(|&i| lines[i].starts_with("| flag |")).expect("the configuration table's header");
    assert!(lines[header + 1].starts_with("|---"), "a separator line follows the header");
    let mut rows = Vec::new();
    for (i, line) in lines.iter().enumerate().skip(header + 2).take_while(|(_, l)| l.starts_with('|')) {
        let n = i + 1;
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
        assert_eq!(cells.len(), 4, "README.md line {n}: a row has four cells (flag, environment, default, meaning): {line}");
        let spans = code_spans(cells[0]);
        let (flags, subcommands): (Vec<String>, Vec<String>) = spans.into_iter().partition(|s| s.starts_with("--"));
        let envs = code_spans(cells[1]);
        let default = cells[2].starts_with('`').then(|| code_spans(cells[2]).remove(0));
        assert!(!envs.is_empty(), "README.md line {n}: no environment variable in backticks: {line}");
        if flags.is_empty() {
            assert_eq!(cells[0], "—", "README.md line {n}: no flag in backticks: {line}");
            for env in envs {
                rows.push(Row { line: n, flag: None, env, subcommands: subcommands.clone(), default: default.clone() });
            }
            continue;
        }
        // Either one variable per flag, in the same order, or one for them all.
        assert!(
            envs.len() == flags.len() || envs.len() == 1,
            "README.md line {n}: {} flags but {} variables: {line}",
            flags.len(),
            envs.len()
        );
        for (k, flag) in flags.iter().enumerate() {
            let env = envs[if envs.len() == 1 { 0 } else { k }].clone();
            rows.push(Row { line: n, flag: Some(flag.clone()), env, subcommands: subcommands.clone(), default: default.clone() });
        }
    }
    assert!(rows.len() > 20, "the table was read: {} rows", rows.len());
    rows
}

/// What is wrong between the table and clap's definitions, one line each.
fn drift(rows: &[Row], flags: &[ClapFlag]) -> Vec<String> {
    let mut problems = BTreeSet::new();
    let subcommand_names: BTreeSet<&str> = flags.iter().map(|f| f.subcommand.as_str()).collect();
    for f in flags.iter().filter(|f| f.long != "--help") {
        let Some(env) = &f.env else {
            problems.insert(format!("`{} {}` has no environment variable (README: every flag has one)", f.subcommand, f.long));
            continue;
        };
        let documented = rows.iter().any(|r| {
            r.flag.as_deref() == Some(f.long.as_str())
                && &r.env == env
                && (r.subcommands.is_empty() || r.subcommands.contains(&f.subcommand))
        });
        if !documented {
            problems.insert(format!("`{} {}` (env {env}) has no row in README.md's configuration table", f.subcommand, f.long));
        }
    }
    for r in rows {
        let Some(flag) = &r.flag else {
            if !ENV_ONLY.contains(&r.env.as_str()) {
                problems
                    .insert(format!("README.md line {}: {} has no flag, and is not one of the variables read outside clap", r.line, r.env));
            }
            continue;
        };
        for sub in &r.subcommands {
            if !subcommand_names.contains(sub.as_str()) {
                problems.insert(format!("README.md line {}: no subcommand `{sub}`", r.line));
            }
        }
        let defined: Vec<&ClapFlag> = flags
            .iter()
            .filter(|f| &f.long == flag && f.env.as_deref() == Some(r.env.as_str()))
            .filter(|f| r.subcommands.is_empty() || r.subcommands.contains(&f.subcommand))
            .collect();
        if defined.is_empty() {
            let elsewhere: Vec<String> = flags
                .iter()
                .filter(|f| &f.long == flag)
                .map(|f| format!("{} reads {}", f.subcommand, f.env.as_deref().unwrap_or("no variable")))
                .collect();
            problems.insert(format!(
                "README.md line {}: `{flag}` with {} is not defined in clap ({})",
                r.line,
                r.env,
                elsewhere.join(", ")
            ));
            continue;
        }
        for f in defined {
            // A default in backticks is a value clap fills in; words ("off",
            // "all", "—", "loopback") say there is none.
            let clap_default = f.defaults.join(",");
            let ok = match &r.default {
                Some(d) => *d == clap_default,
                None => clap_default.is_empty() || clap_default == "false",
            };
            if !ok {
                problems.insert(format!(
                    "README.md line {}: `{} {flag}` default is {:?} in the table but {clap_default:?} in clap",
                    r.line, f.subcommand, r.default
                ));
            }
        }
    }
    problems.into_iter().collect()
}

#[test]
fn configuration_table_matches_the_command_line() {
    let problems = drift(&table_rows(&readme()), &clap_flags());
    assert!(problems.is_empty(), "README.md's configuration table and src/cli.rs disagree (add or fix the row):\n{}", problems.join("\n"));
}

#[test]
fn a_flag_without_a_row_is_caught() {
    // The check itself, against a table that lacks one row: it must notice.
    let readme = readme();
    let without: String = readme.lines().filter(|l| !l.starts_with("| `--latency-ms`")).map(|l| format!("{l}\n")).collect();
    assert_ne!(without, readme, "the row this test removes is still in README.md");
    let problems = drift(&table_rows(&without), &clap_flags());
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("`sandbox --latency-ms` (env DS24_SANDBOX_LATENCY_MS) has no row"), "{}", problems[0]);
}

#[test]
fn readme_states_the_catalogue_size() {
    let readme = readme();
    let n = FUNCTIONS.len();
    for phrase in [format!("All {n} API functions"), format!("lists all {n}")] {
        assert!(readme.contains(&phrase), "README.md should say {phrase:?} (the catalogue has {n} functions)");
    }
}
