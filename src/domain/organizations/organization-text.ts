// What a new organization's name and chosen id may contain: the name is shown in lists and administrators' screens,
// so it follows the rules of people's names (account-text.ts) and is more than spaces, without spaces around it; a
// chosen id goes into REST paths, as a user's does.
import { errors } from "../errors.js";
import { chosenIdProblem, nameProblem } from "../users/account-text.js";

export function checkOrganizationText(name: string, chosenId: string | undefined): void {
  const refusal = organizationNameProblem(name);
  if (refusal) throw errors.textInvalid("name", refusal);
  const idRefusal = chosenId === undefined ? undefined : chosenIdProblem(chosenId);
  if (idRefusal) throw errors.textInvalid("org_id", idRefusal);
}

function organizationNameProblem(name: string): string | undefined {
  if (name.trim() === "") return "may not be blank";
  if (name.trim() !== name) return "may not begin or end with a space";
  return nameProblem(name);
}
