import { type ChangeEvent, type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from "react";
import { UserAvatar } from "../components/avatar.tsx";
import { Icon } from "../components/icon.tsx";
import { useToast } from "../components/toast-provider.tsx";
import { useI18n } from "../i18n/i18n-context.tsx";
import { prepareAvatar } from "../lib/avatar-image.ts";
import { errorMessageKey } from "../lib/error-message.ts";
import { useSignedIn } from "../session/client-context.ts";
import "./settings-section.css";
import "./profile-section.css";

const DISPLAY_NAME_MAX = 64;

/** The person's own display name and avatar, sent encrypted to everyone they chat with. */
export function ProfileSection(): ReactNode {
  const { t } = useI18n();
  const { client, profiles } = useSignedIn();
  const { showToast } = useToast();
  const [displayName, setDisplayName] = useState("");
  const [avatar, setAvatar] = useState<Uint8Array | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [saving, setSaving] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const ids = { name: useId(), file: useId() };

  useEffect(() => {
    let cancelled = false;
    client
      .profile(client.userId)
      .then((p) => {
        if (cancelled) return;
        setDisplayName(p.displayName ?? "");
        setAvatar(p.avatar);
        setLoaded(true);
      })
      .catch(() => !cancelled && setLoaded(true));
    return () => {
      cancelled = true;
    };
  }, [client]);

  const save = async (
    next: { displayName: string; avatar: Uint8Array | null },
    done: string,
  ): Promise<void> => {
    setSaving(true);
    try {
      await client.setProfile({ displayName: next.displayName.trim() || null, avatar: next.avatar });
      setAvatar(next.avatar);
      await profiles.reload(client.userId);
      showToast(done);
    } catch (err) {
      showToast(t(errorMessageKey(err)));
    } finally {
      setSaving(false);
    }
  };

  const onFile = async (e: ChangeEvent<HTMLInputElement>): Promise<void> => {
    const file = e.target.files?.[0];
    e.target.value = "";
    if (!file) return;
    const bytes = await prepareAvatar(file);
    if (!bytes) return showToast(t("profile.badImage"));
    await save({ displayName, avatar: bytes }, t("profile.photoSaved"));
  };

  const onSubmit = (e: FormEvent): void => {
    e.preventDefault();
    void save({ displayName, avatar }, t("profile.saved"));
  };

  return (
    <section className="settings-section" aria-busy={!loaded}>
      <h3>{t("profile.title")}</h3>
      <div className="profile-editor">
        <div className="profile-photo">
          <UserAvatar userId={client.userId} username={client.username} size={80} />
          <input
            ref={fileInput}
            id={ids.file}
            type="file"
            accept="image/png,image/jpeg,image/webp,image/gif"
            className="visually-hidden"
            data-testid="avatar-input"
            onChange={(e) => void onFile(e)}
          />
          <button
            type="button"
            className="button small"
            data-testid="avatar-change"
            disabled={saving}
            onClick={() => fileInput.current?.click()}
          >
            <Icon name="camera" size={16} />
            {t("profile.changePhoto")}
          </button>
          {avatar && (
            <button
              type="button"
              className="link-button"
              disabled={saving}
              onClick={() => void save({ displayName, avatar: null }, t("profile.photoRemoved"))}
            >
              {t("profile.removePhoto")}
            </button>
          )}
        </div>
        <form className="form grow" onSubmit={onSubmit}>
          <label className="field" htmlFor={ids.name}>
            <span>{t("profile.displayName")}</span>
            <input
              id={ids.name}
              className="input"
              data-testid="display-name-input"
              value={displayName}
              maxLength={DISPLAY_NAME_MAX}
              placeholder={client.username}
              onChange={(e) => setDisplayName(e.target.value)}
            />
          </label>
          <p className="field-hint">
            {t("profile.username", { username: client.username })} · {t("profile.hint")}
          </p>
          <button
            type="submit"
            className="button primary"
            data-testid="profile-save"
            disabled={saving || !loaded}
          >
            {t("common.save")}
          </button>
        </form>
      </div>
    </section>
  );
}
