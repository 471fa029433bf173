"""The words the synthetic MultiPref fixture is made of: response phrases of two qualities, topics,
prompt templates, and the hub's metadata values (models, sources, categories, subjects, reasons,
annotator names). Kept apart from the generator so its logic reads on one screen."""

GOOD_PHRASES = (
    "Here is a clear answer with the key steps laid out in order.",
    "For example, a concrete case shows how this works in practice.",
    "In short, the main idea is simple and easy to verify.",
    "A reliable source confirms these facts, with dates and numbers.",
    "To summarise, each point above is precise and directly relevant.",
    "One caveat is worth noting, and it is explained carefully here.",
)
WEAK_PHRASES = (
    "I am not sure about this, it might be something else.",
    "It depends, maybe, on a lot of things.",
    "Something like that probably happens sometimes.",
    "You could search online for more details yourself.",
    "This is a hard question and there are many opinions.",
    "Anyway, whatever works for you is fine.",
)
TOPICS = (
    "photosynthesis",
    "compound interest",
    "the French Revolution",
    "binary search",
    "vaccines",
    "plate tectonics",
    "sourdough baking",
    "the stock market",
    "black holes",
    "jazz harmony",
    "climate change",
    "public speaking",
)
PROMPT_TEMPLATES = (
    "Can you explain how {topic} works?",
    "What should a beginner know about {topic}?",
    "Give me a short overview of {topic}.",
    "Why does {topic} matter?",
    "Write a few sentences about {topic} for a student.",
)
MODELS = (
    "allenai/tulu-2-70b",
    "allenai/tulu-2-7b",
    "gpt-4-turbo-2024-04-09",
    "gpt-3.5-turbo-0125",
    "meta-llama/Llama-2-70b-chat-hf",
)
SOURCES = (
    "anthropic/helpful-base",
    "lmsys/chatbot_arena_conversations",
    "allenai/WildChat",
    "nvidia/HelpSteer",
)
CATEGORIES = ("Open QA", "Brainstorm", "Generation", "Closed QA", "Summarize", "Rewrite")
SUBJECTS = ("Chemistry", "History", "Economics", "Computer Science", "Biology", "Music")
DEGREES = ("Natural sciences", "Humanities", "Social Sciences", "Applied Sciences")
REASONS = ("Informative", "Concise", "Correct", "Clear", "Harmless", "Well-formatted")
NAMES_FIRST = ("brave", "calm", "eager", "jovial", "keen", "lucid", "merry", "noble", "quiet")
NAMES_LAST = ("curie", "turing", "lovelace", "noether", "hopper", "shirley", "darwin", "bohr")
