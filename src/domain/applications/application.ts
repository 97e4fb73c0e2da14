// Applications, as Kii Cloud has them: an app id and an app key that stand for one organization. With
// `Authorization: Basic base64(APP_ID:APP_KEY)` an app may act anonymously for that organization's users: register
// them, log them in, verify and resend their codes, and nothing else. The key is shown once; only its SHA-256 is kept.

export interface Application {
  /** Public: it appears in every Kii URL (/api/apps/{appID}/…). */
  id: string;
  organizationId: string;
  name: string;
  createdAt: Date;
}

export interface ApplicationStore {
  /** Adds an application; false when its id is taken, so that the caller draws another. */
  add(application: Application, keyHash: string): Promise<boolean>;
  find(id: string): Promise<(Application & { keyHash: string }) | undefined>;
  list(organizationId: string): Promise<Application[]>;
  /** Removes an application, which revokes its key at once; false when there was none. */
  remove(id: string): Promise<boolean>;
}

/** Who acts when a call carries an app's credentials instead of a user's token: the limits count it as this caller. */
export function applicationCallerId(applicationId: string): string {
  return `app:${applicationId}`;
}
