//! The command line: `onboard` serves; `onboard owner create --email …` makes an Owner.

pub enum Command {
    Serve,
    Migrate,
    CreateOwner {
        email: String,
        organization: Option<String>,
    },
    GenerateKey,
    RotateKey,
    /// `dev seed`: a large organization for load runs (see `server::seed`).
    Seed {
        members: i64,
        teams: i64,
        owner: String,
    },
    Help,
}

pub const USAGE: &str = "Usage:
  onboard                                   serve Onboard (migrations are applied first)
  onboard migrate                           apply database migrations and exit
  onboard owner create --email ADDRESS [--org NAME]
                                            make ADDRESS an Owner (of a new organization NAME,
                                            or of the first organization) and print a one-time
                                            link to set the password
  onboard keys generate                     print a new secret key (for ONBOARD_SECRET_KEY)
  onboard keys rotate                       re-encrypt every stored secret under a new key: a new
                                            key file, or ONBOARD_NEW_SECRET_KEY when the key is
                                            ONBOARD_SECRET_KEY. Stop every instance first; everyone
                                            signs in again afterwards
  onboard dev seed --members N --teams T [--owner ADDRESS]
                                            for load runs: a new organization of N members on
                                            T teams (statuses, areas, roles, mappings, messages),
                                            and a link for its Owner (default owner@seed.example)
Configuration: Leptos.toml (or ONBOARD_CONFIG) and environment variables; see the README.";

pub fn parse(args: &[String]) -> Result<Command, String> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        [] | ["serve"] => Ok(Command::Serve),
        ["migrate"] => Ok(Command::Migrate),
        ["keys", "generate"] => Ok(Command::GenerateKey),
        ["keys", "rotate"] => Ok(Command::RotateKey),
        ["help" | "--help" | "-h"] => Ok(Command::Help),
        ["owner", "create", rest @ ..] => {
            let (mut email, mut organization) = (None, None);
            let mut it = rest.iter();
            while let Some(flag) = it.next() {
                let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
                match *flag {
                    "--email" => email = Some(value.to_string()),
                    "--org" => organization = Some(value.to_string()),
                    other => return Err(format!("unknown option {other}")),
                }
            }
            let email = email.ok_or("owner create needs --email ADDRESS")?;
            Ok(Command::CreateOwner { email, organization })
        }
        ["dev", "seed", rest @ ..] => {
            let (mut members, mut teams, mut owner) = (None, None, "owner@seed.example".to_string());
            let mut it = rest.iter();
            while let Some(flag) = it.next() {
                let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
                let count = || value.replace('_', "").parse::<i64>().map_err(|_| format!("{flag} needs a number"));
                match *flag {
                    "--members" => members = Some(count()?),
                    "--teams" => teams = Some(count()?),
                    "--owner" => owner = value.to_string(),
                    other => return Err(format!("unknown option {other}")),
                }
            }
            let members = members.ok_or("dev seed needs --members N")?;
            Ok(Command::Seed { members, teams: teams.unwrap_or((members / 100).max(1)), owner })
        }
        _ => Err(format!("unknown command: {}", words.join(" "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn owner_create_reads_its_options_and_refuses_unknown_ones() {
        match parse(&args("owner create --email a@b.co --org Acme")) {
            Ok(Command::CreateOwner { email, organization }) => {
                assert_eq!(email, "a@b.co");
                assert_eq!(organization.as_deref(), Some("Acme"));
            }
            _ => panic!("expected owner create"),
        }
        assert!(parse(&args("owner create")).is_err());
        assert!(parse(&args("owner create --email")).is_err());
        assert!(parse(&args("owner create --email a@b.co --bogus x")).is_err());
        assert!(matches!(parse(&args("")), Ok(Command::Serve)));
        assert!(matches!(parse(&args("keys rotate")), Ok(Command::RotateKey)));
        assert!(parse(&args("keys")).is_err());
        assert!(matches!(
            parse(&args("dev seed --members 1_000_000 --teams 10000")),
            Ok(Command::Seed { members: 1_000_000, teams: 10_000, .. })
        ));
        assert!(parse(&args("dev seed --teams 5")).is_err());
        assert!(parse(&args("dev seed --members many")).is_err());
    }
}
