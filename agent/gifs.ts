/**
 * Arnie gifs, tagged by mood. Discord unfurls these links into the gif itself. The catalogue is
 * data: add links here, one mood each; `gif <mood>` and the model's gif tool pick from it.
 */
export const GIF_MOODS = ["greeting", "success", "failure", "deploy", "back"] as const;
export type GifMood = (typeof GIF_MOODS)[number];

export const GIFS: Readonly<Record<GifMood, readonly string[]>> = {
  greeting: [
    "https://tenor.com/view/arnold-schwarzenegger-hello-wave-gif-14626498",
    "https://giphy.com/gifs/arnold-schwarzenegger-thumbs-up-l0HlvtIPzPdt2usKs",
  ],
  success: [
    "https://giphy.com/gifs/terminator-thumbs-up-arnold-schwarzenegger-lXiRm5H49zYmHr3i0",
    "https://tenor.com/view/terminator-thumbs-up-arnold-schwarzenegger-gif-4986221",
  ],
  failure: [
    "https://tenor.com/view/terminator-hasta-la-vista-baby-arnold-schwarzenegger-gif-4970093",
    "https://giphy.com/gifs/arnold-schwarzenegger-predator-get-to-the-chopper-bGX6mWRvqYPC0",
  ],
  deploy: [
    "https://giphy.com/gifs/terminator-arnold-schwarzenegger-come-with-me-if-you-want-to-live-3oEjHI8WJv4x6UPDB6",
    "https://tenor.com/view/terminator-motorcycle-arnold-t2-gif-5462931",
  ],
  back: [
    "https://tenor.com/view/ill-be-back-terminator-arnold-schwarzenegger-gif-5069960",
    "https://giphy.com/gifs/terminator-ill-be-back-arnold-schwarzenegger-l0MYGb1LuZ3n7dRnO",
  ],
};

export function isGifMood(value: string): value is GifMood {
  return (GIF_MOODS as readonly string[]).includes(value);
}

/** A gif for the mood; `random` returns a number in [0, 1) and is injectable for tests. */
export function pickGif(mood: GifMood, random: () => number = Math.random): string {
  const choices = GIFS[mood];
  const gif = choices[Math.floor(random() * choices.length)] ?? choices[0];
  if (gif === undefined) throw new Error(`no gif for mood ${mood}`);
  return gif;
}
