-- A verified address is a login name by its mailbox (src/domain/email-address.ts): the same in any case.
UPDATE `users` SET `verified_email` = lower(`verified_email`) WHERE `verified_email` <> lower(`verified_email`);
