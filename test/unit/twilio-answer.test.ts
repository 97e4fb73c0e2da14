// How Twilio's refusals are read: what is retried, what is final, and what the error tells the operator.
import { describe, expect, it } from "vitest";
import { PermanentDeliveryFailure } from "../../src/delivery/permanent-delivery-failure.js";
import { twilioFailure } from "../../src/delivery/twilio/twilio-answer.js";

const body = (code: number, message: string, status: number) =>
  JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

describe("Twilio's refusals", () => {
  it.each([
    [429, body(20429, "Too Many Requests", 429)],
    [500, body(20500, "Internal Server Error", 500)],
    [503, "<html>Service Unavailable</html>"],
    [408, ""],
    [400, body(21611, "This 'From' number has exceeded the maximum number of queued messages", 400)],
  ])("retries %i %s", (status, answer) => {
    const error = twilioFailure(status, answer);
    expect(error).not.toBeInstanceOf(PermanentDeliveryFailure);
    expect(error.message).toMatch(new RegExp(`^Twilio answered ${status}`));
  });

  it("takes a number Twilio cannot reach as final, with Twilio's code, message and page", () => {
    const error = twilioFailure(400, body(21614, "'To' number is not a valid mobile number", 400));
    expect(error).toBeInstanceOf(PermanentDeliveryFailure);
    expect(error.message).toBe(
      "Twilio refused the number (21614: 'To' number is not a valid mobile number; https://www.twilio.com/docs/errors/21614)",
    );
  });

  it("takes refused credentials as final, naming the settings to check", () => {
    const error = twilioFailure(401, body(20003, "Authenticate", 401));
    expect(error).toBeInstanceOf(PermanentDeliveryFailure);
    expect(error.message).toMatch(/^Twilio refused the credentials \(20003: Authenticate; .*\); check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN$/);
  });

  it("takes any other 4xx as final, with its status", () => {
    const error = twilioFailure(400, body(21606, "The 'From' phone number provided is not a valid message-capable Twilio phone number", 400));
    expect(error).toBeInstanceOf(PermanentDeliveryFailure);
    expect(error.message).toMatch(/^Twilio refused the message with 400 \(21606: /);
    expect(twilioFailure(404, "not json")).toEqual(new PermanentDeliveryFailure("Twilio refused the message with 404"));
  });
});
