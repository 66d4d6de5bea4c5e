package dev.jquant.train.corpus;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Simple children's stories from a small grammar: a child (with consistent name and pronouns), an
 * animal or another child, a place and a thing, put through one of a few plots (a lost thing, an
 * animal in trouble, learning to share, a rainy day), each told with varied phrasings. The same seed
 * gives the same stories on every machine. The vocabulary stays small (a few hundred words) so that
 * a model of a few million parameters can learn the language well within minutes of training.
 */
public final class StoryGenerator {
    private record Child(String name, boolean girl) {
        String he() {
            return girl ? "she" : "he";
        }

        String He() {
            return girl ? "She" : "He";
        }

        String his() {
            return girl ? "her" : "his";
        }

        String His() {
            return girl ? "Her" : "His";
        }

        String him() {
            return girl ? "her" : "him";
        }

        String kind() {
            return girl ? "girl" : "boy";
        }
    }

    private static final String[] GIRLS = {"Lily", "Mia", "Anna", "Sara", "Emma", "Lucy", "Zoe", "Kate", "Amy", "Ella"};
    private static final String[] BOYS = {"Tom", "Ben", "Sam", "Max", "Leo", "Jack", "Tim", "Dan", "Bob", "Joe"};
    private static final String[] ANIMALS = {"dog", "cat", "bird", "frog", "duck", "rabbit", "fox", "bear", "mouse", "owl"};
    private static final String[] PLACES = {"park", "forest", "garden", "beach", "farm", "lake", "hill", "yard"};
    private static final String[] THINGS = {"ball", "kite", "hat", "book", "car", "doll", "box", "cup", "boat", "shell"};
    private static final String[] COLORS = {"red", "blue", "green", "yellow", "pink", "big", "small", "shiny", "new", "little"};
    private static final String[] SPOTS = {"under a tree", "behind a rock", "in the tall grass", "near the pond",
            "under a bench", "next to a big flower", "inside an old log", "on top of a hill"};
    private static final String[] TRAITS = {"kind", "happy", "curious", "brave", "little", "funny"};
    private static final String[] FOODS = {"apple", "cookie", "carrot", "piece of bread", "banana", "cake"};
    private static final String[] GAMES = {"built a tall tower with blocks", "read a book about the sea",
            "drew a picture of a sun", "played a game with cards", "made a small house out of boxes"};

    private final Random rnd;

    public StoryGenerator(long seed) {
        this.rnd = new Random(seed);
    }

    /** {@code count} stories separated by blank lines. */
    public static String corpus(int count, long seed) {
        StoryGenerator g = new StoryGenerator(seed);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < count; i++) {
            sb.append(g.story()).append("\n\n");
        }
        return sb.toString();
    }

    /** One story: a single paragraph of a few sentences. */
    public String story() {
        Child hero = child(null);
        List<String> s = new ArrayList<>();
        s.add(opening(hero));
        switch (rnd.nextInt(4)) {
            case 0 -> lostThing(hero, s);
            case 1 -> animalInTrouble(hero, s);
            case 2 -> sharing(hero, s);
            default -> rainyDay(hero, s);
        }
        return String.join(" ", s);
    }

    private void lostThing(Child c, List<String> s) {
        String thing = pick(THINGS);
        String color = pick(COLORS);
        String place = pick(PLACES);
        String animal = pick(ANIMALS);
        String spot = pick(SPOTS);
        s.add(c.He() + " had a " + color + " " + thing + ". " + c.He() + " loved " + c.his() + " " + thing + " very much.");
        s.add(oneOf("One day, " + c.name() + " went to the " + place + " with " + c.his() + " " + thing + ".",
                "One sunny day, " + c.name() + " took " + c.his() + " " + thing + " to the " + place + "."));
        s.add(oneOf(c.He() + " played all day. When it was time to go home, the " + thing + " was gone.",
                "After a while, " + c.name() + " looked around. " + c.His() + " " + thing + " was not there."));
        s.add(c.name() + " was sad. " + c.He() + " said, \"Where is my " + thing + "?\"");
        s.add(capitalized(article(animal)) + " " + animal + " saw " + c.name() + " and asked, \"Why are you sad?\"");
        s.add(c.name() + " said, \"I lost my " + color + " " + thing + ".\" The " + animal + " said, \"I will help you.\"");
        s.add(oneOf("They looked everywhere.", "They looked and looked.", "They looked for a long time."));
        s.add("At last, the " + animal + " found the " + thing + " " + spot + ".");
        s.add(c.name() + " was very happy. " + c.He() + " said, \"Thank you, " + animal + "!\"");
        s.add(oneOf("From that day on, " + c.name() + " and the " + animal + " were best friends.",
                c.name() + " and the " + animal + " played together until the sun went down."));
    }

    private void animalInTrouble(Child c, List<String> s) {
        String animal = pick(ANIMALS);
        String place = pick(PLACES);
        s.add(oneOf("One day, " + c.name() + " went to the " + place + " to play.",
                "One morning, " + c.name() + " walked to the " + place + "."));
        s.add("There " + c.he() + " saw a " + pick(COLORS) + " " + animal + ". The " + animal + " was sad.");
        s.add(c.name() + " asked, \"What is wrong, " + animal + "?\"");
        switch (rnd.nextInt(3)) {
            case 0 -> {
                String food = pick(FOODS);
                s.add("The " + animal + " said, \"I am very hungry. I have no food.\"");
                s.add(c.name() + " had " + article(food) + " " + food + " in " + c.his() + " bag. " + c.He()
                        + " gave the " + food + " to the " + animal + ".");
                s.add("The " + animal + " ate the " + food + " and said, \"Thank you! Now I am not hungry.\"");
            }
            case 1 -> {
                s.add("The " + animal + " said, \"I cannot find my mom.\"");
                s.add(c.name() + " said, \"Do not be scared. I will help you find her.\"");
                s.add("They walked to the " + pick(PLACES) + ". There they saw a big " + animal + ". It was the mom!");
                s.add("The little " + animal + " ran to its mom. They were so happy to be together again.");
            }
            default -> {
                s.add("The " + animal + " said, \"I am stuck " + pick(SPOTS) + ". I cannot get out.\"");
                s.add(c.name() + " was brave. " + c.He() + " pulled and pulled, and the " + animal + " was free.");
                s.add("The " + animal + " jumped up and down. \"Thank you, " + c.name() + "! You are a good friend.\"");
            }
        }
        s.add(oneOf(c.name() + " smiled. Helping others made " + c.him() + " feel happy.",
                c.name() + " went home and told " + c.his() + " mom about the " + animal + ". Mom said, \"I am proud of you.\""));
    }

    private void sharing(Child c, List<String> s) {
        Child friend = child(c);
        String thing = pick(THINGS);
        String color = pick(COLORS);
        s.add(c.He() + " had a " + color + " " + thing + " that " + c.he() + " liked to play with.");
        s.add(oneOf("One day, " + c.his() + " friend " + friend.name() + " came to play.",
                "One day, a " + friend.kind() + " named " + friend.name() + " came to " + c.his() + " house."));
        s.add(friend.name() + " saw the " + thing + " and said, \"Can I play with your " + thing + ", please?\"");
        s.add(c.name() + " did not want to share. " + c.He() + " said, \"No, it is my " + thing + "!\"");
        s.add(friend.name() + " was sad. " + friend.He() + " sat down and did not say a word.");
        s.add(oneOf(c.name() + " looked at " + friend.name() + ". " + c.He() + " did not like to see "
                        + c.his() + " friend sad.",
                c.name() + "'s mom said, \"It is good to share with your friends.\""));
        s.add("So " + c.name() + " gave the " + thing + " to " + friend.name() + ". \"Let us play together,\" "
                + c.he() + " said.");
        s.add(oneOf("They played with the " + thing + " all day and had a lot of fun.",
                "They took turns with the " + thing + ". They laughed and laughed."));
        s.add(c.name() + " learned that sharing makes everyone happy.");
    }

    private void rainyDay(Child c, List<String> s) {
        String place = pick(PLACES);
        String game = pick(GAMES);
        s.add(oneOf("One morning, " + c.name() + " wanted to go to the " + place + ".",
                "One day, " + c.name() + " woke up and wanted to play at the " + place + "."));
        s.add(oneOf("But it was raining outside.", "But the sky was dark and it was raining."));
        s.add(c.name() + " was sad. " + c.He() + " said, \"I want to play outside!\"");
        s.add(c.His() + " mom said, \"We can play inside until the rain stops.\"");
        s.add("So " + c.name() + " and " + c.his() + " mom " + game + ".");
        s.add("Soon the rain stopped and the sun came out. " + c.name() + " ran to the window.");
        s.add("\"Look, a rainbow!\" " + c.he() + " said. It was red, yellow, green and blue.");
        s.add(oneOf(c.name() + " went to the " + place + " and played until dinner.",
                c.name() + " and " + c.his() + " mom went to the " + place + " together. It was a good day."));
    }

    private String opening(Child c) {
        String trait = pick(TRAITS);
        return switch (rnd.nextInt(3)) {
            case 0 -> "Once upon a time, there was " + article(trait) + " " + trait + " " + c.kind() + " named " + c.name() + ".";
            case 1 -> "Once there was " + article(trait) + " " + trait + " " + c.kind() + " called " + c.name() + ".";
            default -> c.name() + " was " + article(trait) + " " + trait + " " + c.kind() + " who lived in a small house.";
        };
    }

    /** A child of random sex and name, different from {@code other}. */
    private Child child(Child other) {
        while (true) {
            boolean girl = rnd.nextBoolean();
            Child c = new Child(pick(girl ? GIRLS : BOYS), girl);
            if (other == null || !c.name().equals(other.name())) {
                return c;
            }
        }
    }

    private String pick(String[] options) {
        return options[rnd.nextInt(options.length)];
    }

    private String oneOf(String... options) {
        return pick(options);
    }

    private static String capitalized(String word) {
        return Character.toUpperCase(word.charAt(0)) + word.substring(1);
    }

    private static String article(String word) {
        return "aeiou".indexOf(word.charAt(0)) >= 0 ? "an" : "a";
    }
}
