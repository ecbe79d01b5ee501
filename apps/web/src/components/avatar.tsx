import type { ReactNode } from "react";
import { useProfile } from "../hooks/use-profile.ts";
import { avatarColor, initialOf } from "../lib/avatar-color.ts";
import "./avatar.css";

/** A round picture: the image if there is one, else the initial on a colour derived from `seed`. */
export function AvatarCircle({
  name,
  seed,
  imageUrl,
  size = 44,
}: {
  name: string;
  seed: string;
  imageUrl: string | null;
  size?: number;
}): ReactNode {
  const style = { width: size, height: size, fontSize: Math.round(size * 0.42) };
  if (imageUrl) return <img className="avatar" src={imageUrl} alt="" style={style} draggable={false} />;
  return (
    <span className="avatar" aria-hidden="true" style={{ ...style, background: avatarColor(seed) }}>
      {initialOf(name)}
    </span>
  );
}

/** A person's avatar from their profile (decorative: their name is always written beside it). */
export function UserAvatar({
  userId,
  username,
  size,
}: {
  userId: string;
  username: string;
  size?: number;
}): ReactNode {
  const profile = useProfile(userId);
  return (
    <AvatarCircle
      name={profile.displayName ?? username}
      seed={userId}
      imageUrl={profile.avatarUrl}
      {...(size === undefined ? {} : { size })}
    />
  );
}
