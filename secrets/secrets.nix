# agenix's rules file: which public keys each secret is encrypted to. `agenix -e NAME.age` (run in
# this folder) reads it, and so does `agenix -r` (re-encrypt everything after a key changed).
# The Pulumi program ships every `<name>.age` listed in the stack's `clawdinators:secrets` to that
# instance's bootstrap bundle (infra/bundle.ts); only ciphertext is ever committed or uploaded.
# docs/SECRETS.md explains where each key lives and how an instance decrypts at boot.
#
# This file is an EXAMPLE: replace the public keys below with your own before encrypting anything.
let
  # People who may edit the secrets: their age public keys (`age-keygen -y ~/.config/age/key.txt`)
  # or SSH public keys (`cat ~/.ssh/id_ed25519.pub`).
  operators = [
    "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq"
  ];

  # One age identity per instance. `age-keygen -o clawdinator-1.agekey` prints the public half
  # ("Public key: age1..."); the private half goes to `pulumi config set --secret ageIdentity`
  # (the stack keeps it encrypted, SSM hands it to that instance only), never into this repository.
  clawdinator-1 = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";
  clawdinator-2 = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";
  instances = [ clawdinator-1 clawdinator-2 ];

  everyone = operators ++ instances;
in
{
  # The Discord bot token (Developer Portal -> your application -> Bot -> Reset Token), one line:
  #   agenix -e discord-token.age
  # The agent reads it from /run/agenix/discord-token (config.json: discordTokenFile).
  "discord-token.age".publicKeys = everyone;

  # An Anthropic API key (console -> API keys), `sk-ant-...`, one line:
  #   agenix -e anthropic-api-key.age
  # -> /run/agenix/anthropic-api-key (anthropicApiKeyFile).
  "anthropic-api-key.age".publicKeys = everyone;

  # An OpenAI API key, `sk-...`, one line (list it in clawdinators:secrets to ship it):
  #   agenix -e openai-api-key.age
  # -> /run/agenix/openai-api-key (openaiApiKeyFile).
  "openai-api-key.age".publicKeys = everyone;

  # The GitHub App's private key, the whole PEM file GitHub downloaded (App settings -> Private
  # keys -> Generate). agenix runs $EDITOR on a temp file, so copy the PEM in without an editor:
  #   EDITOR="cp /path/to/app.private-key.pem" agenix -e github-app-key.age
  # -> /run/agenix/github-app-key (githubApp.privateKeyFile; the App and installation ids come from
  # the stack's clawdinators:agent.githubApp). Delete the downloaded PEM afterwards.
  "github-app-key.age".publicKeys = everyone;
}
