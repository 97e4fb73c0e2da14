// What production mode needs on top of development, for tests that start a server with --production: its keys in
// the environment (production refuses --keys, which ps shows), and a provider for every channel whose codes are
// sent; these tests send none (--send-channels none) and ask for codes with return_code.
export const productionKeys = `1:${Buffer.alloc(32, 9).toString("base64")}`;

export const productionEnv: NodeJS.ProcessEnv = { VERIFYD_KEYS: productionKeys };

export const productionFlags = ["--production", "--send-channels", "none"];
