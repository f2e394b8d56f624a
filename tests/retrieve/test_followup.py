from rag.retrieve.followup import needs_context, resolve_followup


def test_pronoun_questions_borrow_the_earlier_subject():
    assert resolve_followup("Why did he cancel it?", ["why did Sadr cancel his itikaf?"]) == \
        "sadr cancel itikaf Why did he cancel it?"


def test_questions_that_name_their_subject_stand_alone():
    assert not needs_context("What did Hennis-Plasschaert say about it?")
    assert resolve_followup("When was the community police established?", ["Who is Sadr?"]) == \
        "When was the community police established?"


def test_a_chain_of_followups_keeps_the_first_subject():
    history = ["Why did Grand Ayatollah Haeri retire?", "What did he announce?"]
    assert resolve_followup("Why did it surprise them?", history).startswith("grand ayatollah haeri retire")
