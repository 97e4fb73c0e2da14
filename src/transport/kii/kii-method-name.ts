// The name a Kii call goes by in metrics, the same as its use case reports (kii-call.ts): "VerifyPhone",
// "ResendEmailCode". Taken from the route table, never from the path, so there are as many names as routes.
import type { KiiRouteMatch } from "./kii-routes.js";

const contactNames = { phone: "Phone", email: "Email" } as const;

export function kiiMethodNameOf(match: KiiRouteMatch): string {
  if (match.kind !== "route") return "Unmatched";
  const { route } = match;
  switch (route.operation) {
    case "token":
      return "Token";
    case "register":
      return "RegisterUser";
    case "read-user":
      return "GetUser";
    case "update-user":
      return "UpdateUser";
    case "verify":
      return `Verify${contactNames[route.channel]}`;
    case "resend":
      return `Resend${contactNames[route.channel]}Code`;
    case "reset-code":
      return `Reset${contactNames[route.channel]}Code`;
  }
}
